"""A real gunicorn server in a process group of its own, for the benchmarks and the scale-out test.

Started on a free port of 127.0.0.1 (gthread workers, no control socket: several instances share one host), logged to a
file, ready when a GET of ``ready_path`` answers 200, and stopped with its workers whatever happens.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class GunicornProcess:
    def __init__(
        self,
        app: str,
        *,
        cwd: Path,
        env: dict,
        log_path: Path,
        workers: int = 1,
        threads: int = 100,
        options: tuple[str, ...] = (),
        port: int | None = None,
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread", "--threads", str(threads)]
        command += ["-b", f"127.0.0.1:{self.port}", "--no-control-socket", *options, app]
        self.process = subprocess.Popen(  # noqa: S603 (fixed argument list)
            command, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait_ready(self, ready_path: str, timeout: float) -> None:
        """Until ``ready_path`` answers 200; RuntimeError (with the log's end) if the server exits or is late."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            with suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                try:
                    connection.request("GET", ready_path)
                    if connection.getresponse().status == 200:
                        return
                finally:
                    connection.close()
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout:g} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The worker processes (the master's children); the master itself if it has none yet."""
        with suppress(OSError):
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
            if children:
                return [int(pid) for pid in children]
        return [self.process.pid]

    def stop(self, timeout: float = 8.0) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # a worker left behind by the master
        self._log.close()
