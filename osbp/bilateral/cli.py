"""``flask --app osbp report --from … --to … --lang fr,en --out FILE.pdf|.csv.zip|.json`` and
``flask --app osbp report verify FILE.json|FILE.pdf``. The command commits once (the archive row and its audit)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from osbp.extensions import db


class _CommandLine:
    """The author of a report made at the command line: no user account, allowed like an admin."""

    id = None
    username = None
    role = "admin"


def _format_of(path: str) -> str:
    for suffix in ("csv.zip", "pdf", "json"):
        if path.lower().endswith("." + suffix):
            return suffix
    raise click.BadParameter("the file name must end in .pdf, .csv.zip or .json", param_hint="--out")


@click.group("report", invoke_without_command=True)
@click.option("--from", "first", help="First day, YYYY-MM-DD (post's local date).")
@click.option("--to", "last", help="Last day, YYYY-MM-DD (inclusive).")
@click.option("--lang", "langs", default="", help="One or two languages, e.g. fr,en (default fr,en).")
@click.option("--out", "out", help="Output file: .pdf, .csv.zip or .json.")
@click.option("--post", "post_code", help="The post's code (needed when the server runs several posts).")
@click.pass_context
@with_appcontext
def report_command(ctx, first, last, langs, out, post_code) -> None:
    """Make the bilateral time-release report of a period (archived and audited)."""
    if ctx.invoked_subcommand is not None:
        return
    from osbp.bilateral import operations
    from osbp.bilateral.period import date_range
    from osbp.errors import DomainError
    from osbp.post.models import Post

    if not (first and last and out):
        raise click.UsageError("give --from, --to and --out (or the subcommand verify FILE)")
    query = select(Post).where(Post.code == post_code) if post_code else select(Post).limit(2)
    posts = list(db.session.scalars(query))
    if len(posts) != 1:
        raise click.ClickException("name the post with --post CODE" if posts else "no such post")
    try:
        first_day, last_day = date_range(first, last)
        report = operations.generate(posts[0], first_day, last_day, langs, _format_of(out), _CommandLine())
    except DomainError as error:
        raise click.ClickException(error.message) from None
    Path(out).write_bytes(report.content)
    db.session.commit()
    click.echo(f"{out}: {len(report.content)} bytes, data SHA-256 {report.record.data_sha256}")


@report_command.command("rollup")
@click.option("--days", default=40, show_default=True, help="How many days back to look for final days not stored.")
@with_appcontext
def rollup_command(days: int) -> None:
    """Store the report facts of every final day not stored yet (run it each night: a month's report then reads
    stored facts only)."""
    from osbp.bilateral.facts import final_days_missing, rollup
    from osbp.post.models import Post

    for post in db.session.scalars(select(Post)):
        missing = final_days_missing(post, days)
        rows = rollup(post, missing)
        db.session.commit()
        shown = f"{missing[0]} to {missing[-1]}" if missing else "none"
        click.echo(f"{post.code}: {len(missing)} day(s) stored ({shown}), {rows} fact rows")


@report_command.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def verify_command(path: str) -> None:
    """Check a report copy (.json or .pdf) against its hash and the archive; exit 1 when it does not verify."""
    from osbp.bilateral.operations import verify

    verdict = verify(Path(path).read_bytes(), path)
    click.echo(verdict.message)
    if not verdict.ok:
        raise SystemExit(1)
