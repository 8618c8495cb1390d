from flask import Blueprint

bp = Blueprint("live", __name__, url_prefix="/live")

from osbp.live import controllers  # noqa: E402,F401
