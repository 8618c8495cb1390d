"""The code's shape that the domains rely on: which package may import which, and what the workflow knows.

Read from the source (every import, also those inside functions), so a new import that turns a dependency around
fails here before it becomes a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "osbp"
AGENCY_KINDS = ("immigration", "customs", "health")


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.startswith("osbp.")}


def _offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT.parent)} imports {name}"
        for path in _modules(package)
        for name in sorted(_imports(path))
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        # The workflow moves steps: it knows no tickets, no seats, no agency, nothing above it.
        ("workflow", ("osbp.queues", "osbp.agencies", "osbp.permissions", "osbp.live", "osbp.api", "osbp.gate")),
        # Queues drive the hall with the workflow; agencies plug into both, never the other way.
        ("queues", ("osbp.agencies", "osbp.live", "osbp.api", "osbp.gate", "osbp.bilateral")),
    ],
)
def test_imports_run_one_way(package, forbidden):
    assert _offending(package, forbidden) == []


def test_the_check_notices_an_import_against_the_grain(tmp_path):
    """The import reader sees an import inside a function (the kind that hides a cycle)."""
    module = tmp_path / "sneaky.py"
    module.write_text("def f():\n    from osbp.queues.models import Ticket\n    return Ticket\n")
    assert _imports(module) == {"osbp.queues.models", "osbp.queues.models.Ticket"}


def test_the_workflow_names_no_agency():
    """Agencies plug in through osbp/workflow/contract.py; the workflow's code never names one."""
    named = [
        f"{path.relative_to(ROOT.parent)}: {kind}"
        for path in _modules("workflow")
        for kind in AGENCY_KINDS
        if kind in path.read_text().lower()
    ]
    assert named == []


def test_crossings_keep_no_agency_record(app):
    """What an agency records lives in its own tables (immigration_identities), not in columns of crossings."""
    from osbp.agencies.immigration.models import TravellerIdentity
    from osbp.workflow.models import Crossing

    columns = {c.name for c in Crossing.__table__.columns}
    assert not columns & {"holder_name", "nationality", "document_type", "document_number", "birth_date"}
    assert {c.name for c in TravellerIdentity.__table__.columns} >= {"crossing_id", "holder_name", "document_number"}
