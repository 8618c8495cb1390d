from flask import Blueprint

bp = Blueprint("audit", __name__)

from osbp.audit import controllers  # noqa: E402,F401
