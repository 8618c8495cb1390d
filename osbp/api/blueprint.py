from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from osbp.api import controllers, public, readmissions  # noqa: E402,F401
