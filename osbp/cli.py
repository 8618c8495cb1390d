"""Command-line tools: ``flask --app osbp seed-demo``, ``create-token USERNAME``, ``create-device board|kiosk NAME``
and ``revoke-device NAME``.

Each command commits once, like a request.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from osbp import events
from osbp.extensions import db


def init_app(app) -> None:
    from osbp.audit.cli import audit_group
    from osbp.bilateral.cli import report_command
    from osbp.bilateral.simulate import simulate_command

    app.cli.add_command(audit_group)
    app.cli.add_command(report_command)
    app.cli.add_command(simulate_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_token_command)
    app.cli.add_command(create_device_command)
    app.cli.add_command(revoke_device_command)


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Allow in production (never do this on a real post).")
@with_appcontext
def seed_demo_command(force: bool) -> None:
    """Create the demo post Rusizi II / Ruzizi II with demo accounts (idempotent)."""
    from osbp.post.seed import COUNTRY_PEOPLE, DEMO_PASSWORDS, DEMO_TOTP_SECRETS, OFFICERS, seed_demo

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
    for username, _country, _name, role in COUNTRY_PEOPLE:
        click.echo(f"  {username:<18} {DEMO_PASSWORDS[role]}")
    click.echo("Second factor (TOTP) of the demo supervisor and admin: add the key to an authenticator app, or print")
    click.echo("the code the login asks for with the command after it:")
    for username, secret in DEMO_TOTP_SECRETS.items():
        click.echo(f"  {username:<18} {secret}")
        click.echo(f"  {'':<18} .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{secret}').now())\"")


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


@click.command("create-device")
@click.argument("role", type=click.Choice(["board", "kiosk"]))
@click.argument("name")
@click.option("--post", "post_code", help="The post's code (needed when the server runs several posts).")
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True, help="The address devices use.")
@with_appcontext
def create_device_command(role: str, name: str, post_code: str | None, base_url: str) -> None:
    """Create a display board or kiosk account and print its set-up link (shown once; only its hash is stored)."""
    from sqlalchemy import select

    from osbp.errors import DomainError
    from osbp.live.devices import create_device
    from osbp.post.models import Post

    query = select(Post).where(Post.code == post_code) if post_code else select(Post).limit(2)
    posts = list(db.session.scalars(query))
    if len(posts) != 1:
        raise click.ClickException("name the post with --post CODE" if posts else "no such post (run db upgrade, seed)")
    try:
        _user, token = create_device(posts[0], role, name)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"{role} {name} created at {posts[0].name}. Open this link once on the device (keep it secret):")
    click.echo(f"(the token after # never reaches the server's logs; or open {base_url.rstrip('/')}/live/device and")
    click.echo(" paste the token; a kiosk that prints: /live/device?print=1#<token>)")
    click.echo(f"{base_url.rstrip('/')}/live/device#{token}")


@click.command("revoke-device")
@click.argument("name")
@with_appcontext
def revoke_device_command(name: str) -> None:
    """Revoke a board's or kiosk's token: its sessions and sockets stop at once."""
    from sqlalchemy import select

    from osbp.auth.models import User
    from osbp.errors import DomainError
    from osbp.live.devices import revoke_device

    user = db.session.scalar(select(User).where(User.username == name.strip().lower()))
    if user is None:
        raise click.ClickException(f"no device {name}")
    try:
        revoke_device(user)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    events.flush()  # session.revoked reaches the device through the message queue, when there is one
    click.echo(f"{name} revoked.")
