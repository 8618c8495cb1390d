from flask import Blueprint

# The reports page (/reports) and the report API (/api/v1/reports/bilateral.pdf|.csv.zip|.json): one blueprint, so
# that a committee member's allow-list is "the bilateral blueprint" (osbp/auth/access.py).
bp = Blueprint("bilateral", __name__)

from osbp.bilateral import controllers  # noqa: E402,F401
