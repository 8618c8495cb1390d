"""Immigration's side of the agency contract (osbp/workflow/contract.py)."""

from __future__ import annotations

from flask_babel import gettext as _

from osbp.errors import Invalid
from osbp.workflow.contract import AgencyControl


class ImmigrationControl(AgencyControl):
    """No clearing before the identity and travel document are recorded; the counter shows the form until then."""

    kind = "immigration"
    counter_panel = "agencies/immigration/counter_panel.html"
    summary_template = "agencies/immigration/summary.html"

    @property
    def blueprints(self):  # imported when the app registers them: controllers import the queue operations
        from osbp.agencies.immigration.controllers import api, pages

        return (pages, api)

    def check_before_clearing(self, step) -> None:
        from osbp.agencies.immigration.operations import identity_of

        if identity_of(step.crossing) is None:
            raise Invalid(_("Record the identity and travel document before clearing."), code="identity_required")

    def panel_context(self, step):
        from osbp.agencies.immigration import countries
        from osbp.agencies.immigration.operations import DOCUMENT_TYPES, identity_of

        if identity_of(step.crossing) is not None:
            return None
        return {
            "step": step,
            "document_types": DOCUMENT_TYPES,
            "nationalities": countries.choices(),
            "nationality_name": lambda typed: countries.country_name(countries.resolve(typed)),
            # translators: how a date is typed on the identity form (day, month, year), e.g. JJ/MM/AAAA
            "date_placeholder": _("DD/MM/YYYY"),
        }

    def summary_context(self, crossing):
        from osbp.agencies.immigration import countries
        from osbp.agencies.immigration.operations import identity_of

        identity = identity_of(crossing)
        if identity is None:
            return None
        return {
            "identity": identity,
            "nationality": countries.country_name(identity.nationality),
            "birth_date": countries.show_date(identity.birth_date),
        }

    def crossing_data(self, crossing) -> dict:
        from osbp.agencies.immigration.operations import identity_json, identity_of

        return {"holder": identity_json(identity_of(crossing))}

    def openapi_paths(self, errors: dict) -> dict:
        from osbp.api.openapi import ID

        return {
            "/steps/{step_id}/identity": {
                "post": {
                    "summary": "Immigration records the person's identity and travel document",
                    "parameters": [{"name": "step_id", "in": "path", "required": True, "schema": ID}],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Identity"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "Crossing",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Crossing"}}},
                        },
                        **errors,
                    },
                }
            }
        }

    def openapi_schemas(self) -> dict:
        from osbp.agencies.immigration.operations import DOCUMENT_TYPES

        return {
            "Identity": {
                "type": "object",
                "required": ["holder_name", "nationality", "document_type", "document_number", "birth_date"],
                "properties": {
                    "holder_name": {"type": "string", "minLength": 2, "maxLength": 120},
                    "nationality": {
                        "type": "string",
                        "maxLength": 64,
                        "example": "RWA",
                        "description": "ISO 3166-1 alpha-3 code (or the country's name)",
                    },
                    "document_type": {"type": "string", "enum": list(DOCUMENT_TYPES)},
                    "document_number": {
                        "type": "string",
                        "minLength": 3,
                        "maxLength": 32,
                        "pattern": "^[A-Za-z0-9<-]+$",
                    },
                    "birth_date": {"type": "string", "format": "date", "maxLength": 10},
                },
            }
        }
