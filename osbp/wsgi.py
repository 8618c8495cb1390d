"""WSGI entry point for a production server: ``gunicorn -w 1 -k gthread --threads 300 osbp.wsgi:app``.

The configuration comes from the environment (``OSBP_*``), read once when the module is imported. The server
process also gets the thread switch interval of OSBP_SWITCH_INTERVAL_MS (shorter waits for requests coming back
from the database while other threads compute; measured in docs/performance.md).
"""

import sys

from osbp import create_app

app = create_app()
sys.setswitchinterval(app.config["OSBP"].switch_interval_ms / 1000)
