from flask import Blueprint

bp = Blueprint("accounts", __name__)

from osbp.accounts import admin_views, controllers  # noqa: E402,F401
