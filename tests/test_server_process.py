"""The production entry point (osbp/wsgi.py) sets up the server process: thread switch interval from the config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from osbp.config import Config, ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_switch_interval_defaults_to_one_millisecond_and_follows_the_environment(tmp_path):
    assert Config.from_env(str(tmp_path), {}).switch_interval_ms == 1.0
    assert Config.from_env(str(tmp_path), {"OSBP_SWITCH_INTERVAL_MS": "0.5"}).switch_interval_ms == 0.5


@pytest.mark.parametrize("value", [0, 0.05, 101])
def test_switch_interval_out_of_range_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="OSBP_SWITCH_INTERVAL_MS"):
        Config.from_env(str(tmp_path), {"OSBP_SWITCH_INTERVAL_MS": str(value)}).validate()


def test_the_server_process_runs_with_the_configured_switch_interval(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSBP_")}
    env.update(
        OSBP_DATABASE_URL=f"sqlite:///{tmp_path / 'wsgi.sqlite3'}",
        OSBP_SECRET_KEY="w" * 40,
        OSBP_SWITCH_INTERVAL_MS="2.5",
    )
    result = subprocess.run(  # noqa: S603 (fixed argument list)
        [sys.executable, "-c", "import sys, osbp.wsgi; print(sys.getswitchinterval())"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.strip().splitlines()[-1]) == pytest.approx(0.0025)


# Eight threads alive at once, each allocating through C malloc, then the arenas (heaps) glibc reports.
ARENAS_PROBE = """
import ctypes, ctypes.util, os, re, sys, tempfile, threading
import osbp.wsgi
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = (ctypes.c_int, ctypes.c_void_p)
libc.fclose.argtypes = (ctypes.c_void_p,)
together = threading.Barrier(9)
def allocate():
    together.wait(10)
    libc.malloc(200)
    together.wait(10)
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
together.wait(10)
together.wait(10)
path = os.path.join(tempfile.mkdtemp(), "malloc_info.xml")
out = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, out)
libc.fclose(out)
print(len(re.findall(r'<heap nr="', open(path).read())))
"""


def _arenas_after_eight_threads(tmp_path, **environ) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OSBP_", "MALLOC_"))}
    env.update(OSBP_DATABASE_URL=f"sqlite:///{tmp_path / 'wsgi.sqlite3'}", OSBP_SECRET_KEY="w" * 40, **environ)
    result = subprocess.run(  # noqa: S603 (fixed argument list)
        [sys.executable, "-c", ARENAS_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip().splitlines()[-1])


def test_malloc_arenas_default_to_two_and_follow_the_environment(tmp_path):
    assert Config.from_env(str(tmp_path), {}).malloc_arena_max == 2
    assert Config.from_env(str(tmp_path), {"OSBP_MALLOC_ARENA_MAX": "0"}).malloc_arena_max == 0
    with pytest.raises(ConfigError, match="OSBP_MALLOC_ARENA_MAX"):
        Config.from_env(str(tmp_path), {"OSBP_MALLOC_ARENA_MAX": "-1"}).validate()


def test_the_server_process_shares_two_malloc_arenas_among_its_threads(tmp_path):
    """The soak's RSS creep: each thread of a server got a glibc arena of its own (16 on 2 cores), each keeping its
    fragments. The server process now caps them at OSBP_MALLOC_ARENA_MAX (2); 0 leaves glibc's default."""
    assert _arenas_after_eight_threads(tmp_path) <= 2
    assert _arenas_after_eight_threads(tmp_path, OSBP_MALLOC_ARENA_MAX="0") > 2
