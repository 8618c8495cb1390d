"""The agency contract: how an agency's own control plugs into the joint workflow.

The workflow moves steps in sequence and knows no agency by name. What one agency records on its step, and what it
requires before its step may be cleared, comes from an ``AgencyControl`` registered for its kind (``Agency.kind``):

- ``check_before_clearing(step)``: raise ``osbp.errors.Invalid`` while the step may not be cleared yet;
- ``counter_panel``: the template included on the counter page for the officer whose step it is, with the context
  ``panel_context(step)`` returns (None: the panel has nothing to show, the decision buttons are shown);
- ``summary_template``: a line about the person on the counter page (identity, goods…), context from
  ``summary_context(crossing)``;
- ``crossing_data(crossing)``: what the agency adds to the crossing's JSON (``GET /api/v1/crossings/<id>``);
- ``blueprints``: its pages and API routes, registered from its package;
- ``openapi_paths()`` / ``openapi_schemas()``: its part of the OpenAPI document;
- ``report_sections``: its sections of the Joint Border Committee report (osbp/bilateral/sections).

The packages register themselves when imported (``osbp.agencies.load()``, called by create_app). An agency
without a package of its own gets the plain control: no record, nothing to check, the decision buttons
only. docs/agencies.md walks through adding one.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AgencyControl:
    """The plain control: an agency that records nothing beyond the decision."""

    kind: ClassVar[str] = ""
    counter_panel: ClassVar[str | None] = None
    summary_template: ClassVar[str | None] = None
    blueprints: ClassVar[tuple] = ()
    report_sections: ClassVar[tuple] = ()

    def check_before_clearing(self, step) -> None:
        """Raise Invalid when the step may not be cleared yet (called under the ticket's lock)."""

    def panel_context(self, step) -> dict[str, Any] | None:
        """Context for ``counter_panel`` while the officer must record something first; None: nothing to record."""
        return None

    def summary_context(self, crossing) -> dict[str, Any] | None:
        """Context for ``summary_template``; None: nothing recorded yet."""
        return None

    def crossing_data(self, crossing) -> dict[str, Any]:
        """Keys the agency adds to the crossing's JSON."""
        return {}

    def openapi_paths(self, errors: dict) -> dict:
        """Its paths in the OpenAPI document; ``errors`` are the shared error responses."""
        return {}

    def openapi_schemas(self) -> dict:
        return {}


_PLAIN = AgencyControl()
_CONTROLS: dict[str, AgencyControl] = {}


def register(control: AgencyControl) -> AgencyControl:
    """Make ``control`` the control of its agency kind (once per kind)."""
    if control.kind in _CONTROLS and type(_CONTROLS[control.kind]) is not type(control):
        raise ValueError(f"two controls for agency kind {control.kind!r}")
    _CONTROLS[control.kind] = control
    return control


def control_for(kind: str) -> AgencyControl:
    """The control registered for an agency kind, or the plain one."""
    return _CONTROLS.get(kind, _PLAIN)


def controls() -> list[AgencyControl]:
    """Every registered control, in the order they were registered (osbp.agencies.PACKAGES)."""
    return list(_CONTROLS.values())


def init_app(app) -> None:
    """Register the blueprints (pages and API routes) of every registered control."""
    for control in controls():
        for blueprint in control.blueprints:
            app.register_blueprint(blueprint)
