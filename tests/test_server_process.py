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
