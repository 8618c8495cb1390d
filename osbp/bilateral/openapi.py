"""The report API's part of the OpenAPI document (added by osbp/api/openapi.py)."""

from __future__ import annotations

from osbp.bilateral.period import MAX_DAYS
from osbp.config import SUPPORTED_LOCALES

_ERROR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_MEDIA = {"pdf": "application/pdf", "csv.zip": "application/zip", "json": "application/json"}


def _parameters() -> list[dict]:
    def day(name: str, description: str) -> dict:
        return {
            "name": name,
            "in": "query",
            "required": True,
            "description": description,
            "schema": {"type": "string", "format": "date", "maxLength": 10, "example": "2026-11-01"},
        }

    return [
        day("from", "First day (the post's local date)"),
        day("to", f"Last day, inclusive; at most {MAX_DAYS} days after from"),
        {
            "name": "lang",
            "in": "query",
            "required": False,
            "description": "One language, or two side by side, comma-separated (default fr,en)",
            "schema": {
                "type": "string",
                "maxLength": 5,
                "example": "fr,en",
                "pattern": "^(%s)(,(%s))?$" % (("|".join(SUPPORTED_LOCALES),) * 2),
            },
        },
    ]


def paths() -> dict:
    result = {}
    for file_format, media in _MEDIA.items():
        result[f"/reports/bilateral.{file_format}"] = {
            "get": {
                "summary": f"The Joint Border Committee's time-release report as {file_format} (committee members, "
                "supervisors and admins; aggregates only; archived and audited; Cache-Control: no-store)",
                "parameters": _parameters(),
                "responses": {
                    "200": {
                        "description": "The report file; X-Report-SHA256 is the SHA-256 of its canonical data",
                        "content": {media: {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "400": {**_ERROR, "description": "invalid_period: a missing or bad date, to before from, too long"},
                    "401": _ERROR,
                    "403": {**_ERROR, "description": "not a committee member, supervisor or admin"},
                    "422": {**_ERROR, "description": "invalid_languages: not one or two of en, fr, rw"},
                },
            }
        }
    return result
