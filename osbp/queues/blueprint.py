from flask import Blueprint

bp = Blueprint("queues", __name__)

from osbp.queues import controllers, readmission_views  # noqa: E402,F401
