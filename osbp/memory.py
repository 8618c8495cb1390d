"""The server process's C allocator: how many glibc malloc arenas its threads share.

glibc gives each thread that allocates while another holds the arena lock an arena of its own, up to 8 per core (16
on the 2-core machine). A gunicorn gthread worker runs a pool of request threads plus a thread per open Socket.IO
websocket, started and ended as sockets come and go, so a server soon spreads its C allocations (psycopg2 and libpq
results, large Python objects) over a dozen arenas, each keeping its own free fragments: the soak
(bench/soak.py, docs/performance.md) saw RSS creep 0.8 MiB a minute with no fault and no leak in Python objects.
Two arenas hold it nearly flat for the same work. Set before the server starts its threads (osbp/wsgi.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

M_ARENA_MAX = -8  # glibc's mallopt parameter


def limit_malloc_arenas(count: int) -> bool:
    """At most ``count`` malloc arenas from now on (0: glibc's default); False where the C library is not glibc."""
    if count <= 0 or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return bool(libc.mallopt(M_ARENA_MAX, count))
