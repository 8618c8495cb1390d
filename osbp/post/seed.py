"""The demo post Rusizi II (RW) / Ruzizi II (CD): agencies, step kinds, routes, stations, demo accounts.

Idempotent: running it again changes nothing that exists.
"""

from __future__ import annotations

from sqlalchemy import select

from osbp.auth.models import TotpCredential, User
from osbp.auth.passwords import hash_password
from osbp.auth.totp import encrypt_secret
from osbp.extensions import db
from osbp.i18n import N_
from osbp.post.models import Agency, Post
from osbp.queues.models import Station
from osbp.workflow.models import Route, RouteStep, StepKind

POST_CODE = "RUSIZI-II"
AGENCIES = [
    ("RW", "immigration", "RW-IMM", "DGIE"),
    ("RW", "customs", "RW-CUS", "RRA"),
    ("RW", "health", "RW-HEA", "RBC"),
    ("CD", "immigration", "CD-IMM", "DGM"),
    ("CD", "customs", "CD-CUS", "DGDA"),
    ("CD", "health", "CD-HEA", "PNHF"),
]
STEP_KINDS = {
    "immigration": ("exit", "entry"),
    "customs": ("export", "import"),
    "health": ("screening",),
}
_ABBREVIATION = {"immigration": "IMM", "customs": "CUS", "health": "HEA"}


def route_plan(origin: str, destination: str, category: str) -> list[tuple[str, str, str]]:
    """(country, agency kind, control) in the order the EAC OSBP sequence of controls asks for."""
    people = [(origin, "immigration", "exit"), (destination, "immigration", "entry")]
    if category == "resident":
        return people
    health = [(destination, "health", "screening")]
    goods = [(origin, "customs", "export"), (destination, "customs", "import")]
    if category == "traveller":
        return people + health
    return people + health + goods  # trader, driver


STATIONS = [
    ("C1", N_("Counter 1"), "primary", ("immigration",)),
    ("C2", N_("Counter 2"), "primary", ("immigration",)),
    ("C3", N_("Counter 3"), "primary", ("health",)),
    ("C4", N_("Counter 4"), "primary", ("customs",)),
    ("C5", N_("Counter 5"), "primary", ("customs",)),
    ("S1", N_("Immigration secondary inspection"), "secondary", ("immigration",)),
    ("S2", N_("Health holding room"), "secondary", ("health",)),
    ("S3", N_("Customs inspection bay"), "secondary", ("customs",)),
]
DEMO_PASSWORDS = {
    "officer": "rusizi-demo-officer",
    "supervisor": "rusizi-demo-supervisor",
    "admin": "rusizi-demo-admin",
    "gate": "rusizi-demo-gate",
    "committee": "rusizi-demo-committee",
}
# The demo supervisor's and admin's TOTP second factor (RFC 6238 base32 keys, DEMO ONLY, public in this file): add
# them to an authenticator app, or print the current code with
#   .venv/bin/python -c "import pyotp; print(pyotp.TOTP('<key>').now())"
DEMO_TOTP_SECRETS = {
    "supervisor-1": "OSBPDEMOSUPERVISORRUSIZIIRWCD234",
    "admin": "OSBPDEMOADMINRUSIZIIRUZIZIIRWCD7",
}
OFFICERS = [
    ("rw-immigration-1", "RW-IMM", "Aline Uwase"),
    ("rw-immigration-2", "RW-IMM", "Jean Bosco Habimana"),
    ("cd-immigration-1", "CD-IMM", "Espérance Mapendo"),
    ("cd-immigration-2", "CD-IMM", "Patrick Bisimwa"),
    ("rw-customs-1", "RW-CUS", "Claudine Mukamana"),
    ("cd-customs-1", "CD-CUS", "Furaha Cirhuza"),
    ("rw-health-1", "RW-HEA", "Diane Ingabire"),
    ("cd-health-1", "CD-HEA", "Nsimire Bahati"),
]
# Gate officers and Joint Border Committee members: one country each, no agency.
COUNTRY_PEOPLE = [
    ("rw-gate-1", "RW", "Eric Niyonzima", "gate"),
    ("cd-gate-1", "CD", "Chance Mugisho", "gate"),
    ("rw-committee-1", "RW", "Josiane Uwimana", "committee"),
    ("cd-committee-1", "CD", "Bienvenu Kabamba", "committee"),
]


def seed_demo(hasher=hash_password) -> Post:
    post = db.session.scalar(select(Post).where(Post.code == POST_CODE))
    if post is None:
        post = Post(
            code=POST_CODE,
            name_a="Rusizi II",
            name_b="Ruzizi II",
            country_a="RW",
            country_b="CD",
            default_locale="en",
            timezone="Africa/Kigali",
        )
        db.session.add(post)
        db.session.flush()
    agencies = _ensure_agencies(post)
    kinds = _ensure_step_kinds(post, agencies)
    _ensure_routes(post, kinds)
    _ensure_stations(post, kinds)
    _ensure_users(post, agencies, hasher)
    db.session.flush()
    return post


def _ensure_agencies(post) -> dict[str, Agency]:
    existing = {a.code: a for a in db.session.scalars(select(Agency).where(Agency.post_id == post.id))}
    for country, kind, code, name in AGENCIES:
        if code not in existing:
            existing[code] = Agency(post_id=post.id, country=country, kind=kind, code=code, name=name)
            db.session.add(existing[code])
    db.session.flush()
    return existing


def _ensure_step_kinds(post, agencies) -> dict[tuple[str, str, str], StepKind]:
    existing = {k.code: k for k in db.session.scalars(select(StepKind).where(StepKind.post_id == post.id))}
    kinds = {}
    for agency in agencies.values():
        for control in STEP_KINDS[agency.kind]:
            code = f"{agency.country}-{_ABBREVIATION[agency.kind]}-{control.upper()}"
            if code not in existing:
                existing[code] = StepKind(post_id=post.id, agency_id=agency.id, control=control, code=code)
                db.session.add(existing[code])
            kinds[(agency.country, agency.kind, control)] = existing[code]
    db.session.flush()
    return kinds


def _ensure_routes(post, kinds) -> None:
    for origin, destination in ((post.country_a, post.country_b), (post.country_b, post.country_a)):
        direction = f"{origin}-{destination}"
        for category in ("traveller", "trader", "resident", "driver"):
            exists = db.session.scalar(
                select(Route.id).where(
                    Route.post_id == post.id, Route.direction == direction, Route.category == category
                )
            )
            if exists:
                continue
            route = Route(post_id=post.id, direction=direction, category=category)
            for position, key in enumerate(route_plan(origin, destination, category), start=1):
                route.steps.append(RouteStep(position=position, step_kind_id=kinds[key].id))
            db.session.add(route)


def _ensure_stations(post, kinds) -> None:
    existing = {s.code for s in db.session.scalars(select(Station).where(Station.post_id == post.id))}
    for code, name, stage, agency_kinds in STATIONS:
        if code in existing:
            continue
        station = Station(post_id=post.id, code=code, name=name, stage=stage, is_open=True)
        station.step_kinds = [k for (_, kind, _), k in kinds.items() if kind in agency_kinds]
        db.session.add(station)


def _ensure_users(post, agencies, hasher) -> None:
    existing = set(db.session.scalars(select(User.username)))
    people = [(username, agencies[code], None, name, "officer") for username, code, name in OFFICERS]
    people += [
        ("supervisor-1", None, None, "Post supervisor", "supervisor"),
        ("admin", None, None, "Administrator", "admin"),
    ]
    people += [(username, None, country, name, role) for username, country, name, role in COUNTRY_PEOPLE]
    for username, agency, country, name, role in people:
        if username in existing:
            continue
        user = User(
            post_id=post.id,
            username=username,
            full_name=name,
            role=role,
            agency_id=agency.id if agency else None,
            country=country,
            password_hash=hasher(DEMO_PASSWORDS[role]),
        )
        db.session.add(user)
        if username in DEMO_TOTP_SECRETS:
            db.session.flush()
            db.session.add(
                TotpCredential(user_id=user.id, secret_encrypted=encrypt_secret(DEMO_TOTP_SECRETS[username]))
            )
