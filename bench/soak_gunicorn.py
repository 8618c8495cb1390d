"""Gunicorn settings file of the soak's servers (``gunicorn -c bench/soak_gunicorn.py``): an optional memory probe.

With ``OSBP_SOAK_TRACEMALLOC=<path>`` in a server's environment, its worker starts tracemalloc once it is ready, takes
a baseline snapshot after ``OSBP_SOAK_TRACEMALLOC_WARMUP`` seconds (default 60) and then, every
``OSBP_SOAK_TRACEMALLOC_EVERY`` seconds (default 60), appends to ``<path>.<pid>`` the allocations that grew most
since the baseline (by line, or by traceback with ``OSBP_SOAK_TRACEMALLOC_FRAMES`` > 1) and the gc-tracked objects
whose count grew most, by type. Without the variable nothing is loaded: the soak's figures are the plain server's.
tracemalloc costs CPU and memory of its own, so a probe run's RSS is not the figure to report.
"""

from __future__ import annotations

import gc
import os
import threading
import time
import tracemalloc
from collections import Counter


def _object_types() -> Counter:
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def _probe(path: str, frames: int, warmup: float, every: float) -> None:
    time.sleep(warmup)
    gc.collect()
    baseline, baseline_types = tracemalloc.take_snapshot(), _object_types()
    started = time.monotonic()
    key = "traceback" if frames > 1 else "lineno"
    ignore = (
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
    )
    while True:
        time.sleep(every)
        gc.collect()
        snapshot = tracemalloc.take_snapshot().filter_traces(ignore)
        current, peak = tracemalloc.get_traced_memory()
        types = _object_types()
        grown = sorted(((types[t] - baseline_types.get(t, 0), t) for t in types), reverse=True)[:20]
        lines = [
            f"=== {time.monotonic() - started:.0f} s after the baseline; traced {current / 2**20:.1f} MiB "
            f"(peak {peak / 2**20:.1f}); gc objects {sum(types.values())} ({sum(baseline_types.values())} at baseline)"
        ]
        for stat in snapshot.compare_to(baseline.filter_traces(ignore), key)[:25]:
            # file:line only: traceback.format() reads the sources through linecache, which the probe would then
            # find as its own growth (5 MiB of ``fp.readlines()`` in the first soak)
            where = [f"{frame.filename}:{frame.lineno}" for frame in stat.traceback]
            lines.append(f"{stat.size_diff / 1024:+10.1f} KiB {stat.count_diff:+8d} blocks  {where[-1]}")
            lines.extend(f"        {place}" for place in where[:-1])
        lines.append("--- gc objects grown, by type")
        lines.extend(f"{diff:+8d}  {name}" for diff, name in grown if diff > 0)
        with open(f"{path}.{os.getpid()}", "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")


def post_worker_init(worker) -> None:
    path = os.environ.get("OSBP_SOAK_TRACEMALLOC")
    if not path:
        return
    frames = int(os.environ.get("OSBP_SOAK_TRACEMALLOC_FRAMES", "1"))
    tracemalloc.start(frames)
    warmup = float(os.environ.get("OSBP_SOAK_TRACEMALLOC_WARMUP", "60"))
    every = float(os.environ.get("OSBP_SOAK_TRACEMALLOC_EVERY", "60"))
    threading.Thread(target=_probe, args=(path, frames, warmup, every), daemon=True, name="soak-tracemalloc").start()
