"""WSGI entry point for a production server: ``gunicorn -w 1 --threads 100 osbp.wsgi:app``.

The configuration comes from the environment (``OSBP_*``), read once when the module is imported.
"""

from osbp import create_app

app = create_app()
