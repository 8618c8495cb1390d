"""Each agency's own control on its steps, one package per agency kind: ``osbp/agencies/<kind>/``.

A package has the same parts as the other domains — ``models`` (its own tables, keyed by crossing or step),
``operations``, ``controllers`` (its pages and API routes), templates under ``templates/agencies/<kind>/`` and tests
``tests/test_<kind>.py`` — and plugs into the joint workflow through the contract in osbp/workflow/contract.py
(``AgencyControl``). docs/agencies.md walks through adding one. Immigration is the worked example.
"""

import importlib

# The agency kinds whose controls live in a package here, in the order their panels and records appear.
PACKAGES = ("immigration",)


def load() -> None:
    """Import each agency package: importing one registers its control with the workflow."""
    for kind in PACKAGES:
        importlib.import_module(f"osbp.agencies.{kind}")
