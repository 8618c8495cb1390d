"""A settable clock for tests: every osbp module that imported ``osbp.types.utcnow`` reads it instead."""

from __future__ import annotations

import sys

from osbp import types


def patch_utcnow(monkeypatch, fake) -> None:
    """Point ``utcnow`` at ``fake`` in every loaded osbp module that uses the real one (and in osbp.types)."""
    import osbp.models  # noqa: F401  (load every domain first)
    from osbp import agencies

    agencies.load()
    real = types.utcnow
    for name, module in list(sys.modules.items()):
        if name.startswith("osbp.") and getattr(module, "utcnow", None) is real:
            monkeypatch.setattr(module, "utcnow", fake)
