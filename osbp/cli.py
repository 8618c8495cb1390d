"""Command-line tools: ``flask --app osbp seed-demo`` and ``flask --app osbp create-token USERNAME``.

Each command commits once, like a request.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from osbp.extensions import db


def init_app(app) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_token_command)


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Allow in production (never do this on a real post).")
@with_appcontext
def seed_demo_command(force: bool) -> None:
    """Create the demo post Rusizi II / Ruzizi II with demo accounts (idempotent)."""
    from osbp.post.seed import DEMO_PASSWORDS, OFFICERS, seed_demo

    if current_app.config["OSBP"].production and not force:
        raise click.ClickException("refusing to create demo accounts in production (use --force only on a test post)")
    post = seed_demo()
    db.session.commit()
    click.echo(f"Demo post ready: {post.name}")
    click.echo("Demo accounts (DEMO ONLY, never on a real post):")
    for username, _code, _name in OFFICERS:
        click.echo(f"  {username:<18} {DEMO_PASSWORDS['officer']}")
    click.echo(f"  {'supervisor-1':<18} {DEMO_PASSWORDS['supervisor']}")
    click.echo(f"  {'admin':<18} {DEMO_PASSWORDS['admin']}")


@click.command("create-token")
@click.argument("username")
@with_appcontext
def create_token_command(username: str) -> None:
    """Print a new bearer token for USERNAME (shown once; only its hash is stored)."""
    from osbp.auth.operations import create_token
    from osbp.errors import DomainError

    try:
        token = create_token(username)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(token)
