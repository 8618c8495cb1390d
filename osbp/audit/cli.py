"""``flask --app osbp audit verify`` and ``flask --app osbp audit heads [--day YYYY-MM-DD] [--format csv|json]``."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date

import click
from flask.cli import with_appcontext

from osbp.extensions import db


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log: check the hash chain, export the daily chain heads."""


@audit_group.command("verify")
@with_appcontext
def verify_command() -> None:
    """Check every audit row against the hash chain and the chain head; exit 1 naming the first bad row."""
    from osbp.audit import guard
    from osbp.audit.chain import verify
    from osbp.audit.status import describe

    connection = db.session.connection()
    result = verify(connection)
    missing_triggers = sorted(guard.missing(connection))
    db.session.rollback()
    if not result.ok:
        click.echo(f"audit chain BROKEN: {describe(result)}", err=True)
        sys.exit(1)
    click.echo(f"audit chain intact: {describe(result)}")
    if missing_triggers:
        click.echo(f"append-only triggers missing: {', '.join(missing_triggers)}", err=True)
        sys.exit(2)


@audit_group.command("heads")
@click.option("--day", "days", multiple=True, help="A day (YYYY-MM-DD); repeat for several. Default: every day.")
@click.option("--timezone", default="UTC", show_default=True, help="Whose days: UTC, or e.g. Africa/Kigali.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@with_appcontext
def heads_command(days: tuple[str, ...], timezone: str, fmt: str) -> None:
    """Print each day's chain head (the last sequence number and hash at the end of the day) for safekeeping outside
    the post."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from osbp.audit.heads import daily_heads, first_day, head_at_end_of
    from osbp.types import utcnow

    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter("not a time zone name", param_hint="--timezone") from None
    session = db.session
    if days:
        try:
            wanted = sorted({date.fromisoformat(day) for day in days})
        except ValueError:
            raise click.BadParameter("days are written YYYY-MM-DD", param_hint="--day") from None
        heads = [head_at_end_of(session, day, timezone) for day in wanted]
    else:
        first = first_day(session, timezone)
        heads = daily_heads(session, first, utcnow().astimezone(zone).date(), timezone) if first else []
    db.session.rollback()
    rows = [head.as_dict() for head in heads]
    if fmt == "json":
        click.echo(json.dumps({"timezone": timezone, "heads": rows}, indent=2))
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=["date", "seq", "hash", "rows"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
