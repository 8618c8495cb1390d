"""The sections of the bilateral report. Each is one small module with ``KEY`` and ``compute(context) -> dict``, and
a template block ``templates/bilateral/sections/<KEY>.html``; its tables (CSV annex and the PDF's data tables) are in
``osbp/bilateral/annex.py``. An agency adds its section by adding a module here and its name to ``SECTIONS``.

``compute`` reads aggregates in SQL only and returns JSON-ready values (docs/reports.md); sections computed earlier
are in ``context.sections`` (comparison reads release and outcomes).
"""

from __future__ import annotations

from importlib import import_module

SECTIONS = ("volume", "release", "stages", "pattern", "outcomes", "staffing", "comparison", "audit")


def modules():
    return [import_module(f"osbp.bilateral.sections.{key}") for key in SECTIONS]
