from flask import Blueprint

bp = Blueprint("auth", __name__)

from osbp.auth import controllers  # noqa: E402,F401
