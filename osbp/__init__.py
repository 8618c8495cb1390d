"""osbp: the software that runs a One Stop Border Post."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from osbp.config import Config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Config | dict | None = None) -> Flask:
    """Build the application. ``config`` is a Config, a dict of Config fields overriding the environment, or None."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    base = Config.from_env(app.instance_path)
    if isinstance(config, dict):
        base = base.replace(**config)
    elif isinstance(config, Config):
        base = config
    base.validate()
    app.config["OSBP"] = base
    app.config.update(base.flask_settings())
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if base.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The client's address (login limits, audit) from the X-Forwarded-For the trusted proxies add; never more.
        n = base.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0, x_port=0, x_prefix=0)

    # Extensions, in this order: database, migrations, auth, CSRF, i18n, sockets.
    from osbp import models  # noqa: F401  (registers every model with the metadata)
    from osbp.extensions import babel, csrf, db, login_manager, migrate, socketio
    from osbp.i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    # The Socket.IO handlers are declared before the server exists, so that every init_app registers them: a module
    # imported after a first server was made would have put them on that server only (a second app in the process —
    # tests, tools — would then answer no socket event).
    from osbp import sockets  # noqa: F401

    # Redis pub/sub ignores database numbers: each deployment sharing a Redis server needs its own channel.
    queue_options = message_queue_options(base.socketio_message_queue, base.socketio_channel)
    socketio.init_app(
        app,
        async_mode="threading",
        message_queue=base.socketio_message_queue or None,
        cors_allowed_origins=None,  # None = same origin only; never "*"
        **queue_options,
    )

    from osbp import web

    web.init_app(app)

    from osbp.accounts.blueprint import bp as accounts_bp
    from osbp.api.blueprint import bp as api_bp
    from osbp.audit.blueprint import bp as audit_bp
    from osbp.auth.blueprint import bp as auth_bp
    from osbp.bilateral.blueprint import bp as bilateral_bp
    from osbp.gate.blueprint import bp as gate_bp
    from osbp.live.blueprint import bp as live_bp
    from osbp.queues.blueprint import bp as queues_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(queues_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(live_bp)
    app.register_blueprint(gate_bp)
    app.register_blueprint(bilateral_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(audit_bp)

    from osbp import agencies
    from osbp.workflow import contract

    agencies.load()
    contract.init_app(app)  # each agency's pages and API routes (osbp/agencies/<kind>/)

    from osbp import cli

    cli.init_app(app)
    return app


def message_queue_options(url: str, channel: str) -> dict:
    """Socket.IO's message queue: Redis through ``ResyncingRedisManager`` (bounded reconnects, ``resync`` after a
    loss: osbp/message_queue.py); another URL through Flask-SocketIO's own choice; none: this process only."""
    if not url:
        return {"client_manager": None}  # not a manager left by an earlier create_app in this process
    if url.startswith(("redis://", "rediss://", "unix://")):
        from osbp.message_queue import ResyncingRedisManager

        return {"client_manager": ResyncingRedisManager(url, channel=channel)}
    return {"channel": channel}
