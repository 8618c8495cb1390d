"""Build a bilateral report's canonical data (docs/reports.md) and its SHA-256.

The data is aggregates only; every format (PDF, CSV annexes, JSON) is made from it, so the numbers are the same in
all three, and its hash identifies it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, text

from osbp.bilateral import sections
from osbp.bilateral.facts import Facts
from osbp.bilateral.query import MIN_CELL, Scope, is_postgres
from osbp.bilateral.sections.stages import STAGES
from osbp.extensions import db
from osbp.post.models import AGENCY_KINDS, Agency
from osbp.types import utcnow

FORMAT = "osbp-trs-1"
CUMULATIVE_MINUTES = (15, 30, 60, 120)


@dataclass
class Context:
    """What every section's ``compute`` gets: the scope, the rules, the post's lanes and agencies, and a cache of
    figures earlier sections computed (so that a later one does not read them again)."""

    post: object
    scope: Scope
    rules: dict
    baseline: dict | None
    now: datetime | None = None
    cache: dict = field(default_factory=dict)
    _agencies: list | None = None

    @property
    def directions(self) -> tuple[str, str]:
        return self.post.directions

    def agency_keys(self) -> list[tuple[str, str]]:
        """(country, kind) for the post's agencies: side A first, then immigration, customs, health."""
        if self._agencies is None:
            rows = db.session.execute(select(Agency.country, Agency.kind).where(Agency.post_id == self.post.id)).all()
            countries = self.post.countries
            self._agencies = sorted(
                ((c, k) for c, k in rows), key=lambda ck: (countries.index(ck[0]), AGENCY_KINDS.index(ck[1]))
            )
        return self._agencies

    def stage_keys(self) -> list[tuple[str, str, str]]:
        return [(c, k, s) for c, k in self.agency_keys() for s in STAGES]

    @property
    def facts(self) -> Facts:
        """The period's day facts, added up (osbp/bilateral/facts.py)."""
        if "facts" not in self.cache:
            self.cache["facts"] = self.facts_for(self.scope)
        return self.cache["facts"]

    def facts_for(self, scope: Scope) -> Facts:
        return Facts(self.post, scope, today=local_today(self.post, self.now))


def local_today(post, now: datetime | None = None):
    """The post's local date now: days before the day before yesterday are final (osbp/bilateral/facts.py)."""
    return (now or utcnow()).astimezone(ZoneInfo(post.timezone)).date()


def rules(config) -> dict:
    return {
        "release_target_minutes": config.release_target_minutes,
        "cumulative_minutes": list(CUMULATIVE_MINUTES),
        "outlier_hours": config.report_outlier_hours,
        "min_cell": MIN_CELL,
        "wait_target_minutes": config.wait_target_minutes,
    }


def baseline(config) -> dict | None:
    if config.release_baseline_hours is None:
        return None
    return {
        "hours": config.release_baseline_hours,
        "date": config.release_baseline_date,
        "source": config.release_baseline_source,
    }


def build_report(post, first_day, last_day, *, now: datetime | None = None) -> dict:
    """The canonical data of the report for ``post`` from ``first_day`` to ``last_day`` (local dates, inclusive)."""
    config = current_app.config["OSBP"]
    scope = Scope(post.id, post.timezone, first_day, last_day)
    context = Context(post=post, scope=scope, rules=rules(config), baseline=baseline(config), now=now)
    if is_postgres():
        # hashes of a month of steps in memory (for this transaction only)
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))
    computed = {module.KEY: module.compute(context) for module in sections.modules()}
    return {
        "format": FORMAT,
        "post": {
            "code": post.code,
            "name_a": post.name_a,
            "name_b": post.name_b,
            "country_a": post.country_a,
            "country_b": post.country_b,
            "timezone": post.timezone,
        },
        "period": {"from": first_day.isoformat(), "to": last_day.isoformat(), "days": scope.days},
        "rules": context.rules,
        "sections": {key: computed[key] for key in sections.SECTIONS},
    }


def canonical_json(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def data_sha256(data: dict) -> str:
    return hashlib.sha256(canonical_json(data)).hexdigest()
