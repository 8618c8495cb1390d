"""WSGI entry point for a production server: ``gunicorn -w 1 -k gthread --threads 300 osbp.wsgi:app``.

The configuration comes from the environment (``OSBP_*``), read once when the module is imported. The server
process also gets the thread switch interval of OSBP_SWITCH_INTERVAL_MS (shorter waits for requests coming back
from the database while other threads compute; measured in docs/performance.md), and at most OSBP_MALLOC_ARENA_MAX
glibc malloc arenas (osbp/memory.py: the soak's RSS creep).
"""

import sys

from osbp import create_app
from osbp.memory import limit_malloc_arenas

app = create_app()
sys.setswitchinterval(app.config["OSBP"].switch_interval_ms / 1000)
limit_malloc_arenas(app.config["OSBP"].malloc_arena_max)
