from flask import Blueprint

# The gate page and its form, and the gate API (POST /api/v1/gate-passes/<code>/exit): one package, one blueprint.
bp = Blueprint("gate", __name__)

from osbp.gate import controllers  # noqa: E402,F401
