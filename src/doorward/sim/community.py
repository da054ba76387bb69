"""A demo community: two gates, ~80 units, ~200 residents with cards, PINs and mobile keys,
staff on a weekday schedule with holidays, a few visitor passes, and three demo logins.

Everything goes through the hub's services, so the demo exercises the real code paths. Names
are made up from short lists; they mean nothing. Deterministic for a given seed, except the
login passwords, which are random and returned so the caller can print them.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from doorward.domain.model import GateKind
from doorward.hub.schemas import CredentialIssue, GateCreate, PersonCreate, ScheduleCreate
from doorward.hub.schemas import WindowIn as Window
from doorward.hub.services import accounts
from doorward.hub.services.common import bump_version, new_id
from doorward.hub.services.context import HubContext
from doorward.hub.services.credentials import add_credential
from doorward.hub.services.gates import create_gate, create_schedule
from doorward.hub.services.passes import pass_grant
from doorward.hub.services.people import add_person
from doorward.store.models import CredentialRow, PassRow, PersonRow, UnitRow, UserRow

__all__ = ["DEMO_USERNAMES", "Community", "DemoLogin", "active_pass_payloads", "build_community",
           "community_exists",
           "reset_demo_logins"]

ENTRY_GATE = "main-turnstile"
DOOR_GATE = "garden-door"
DEMO_USERNAMES = {"admin": "admin", "guard": "guard", "resident": "resident"}

_GIVEN = ("Ana", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ines", "Jonas",
          "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara",
          "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe")
_FAMILY = ("Almeida", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad",
           "Ivanova", "Jensen", "Kowalski", "Lopes", "Moreau", "Nakamura", "Okafor", "Petrov",
           "Quiroga", "Rossi", "Silva", "Tanaka", "Usman", "Varga", "Weber", "Yilmaz", "Zhou")
_SYSTEM = accounts.AuthUser(id="demo", username="demo-setup", role="admin", person_id=None)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


@dataclass
class Community:
    units: int = 0
    people: int = 0
    credentials: int = 0
    passes: int = 0
    logins: list[DemoLogin] = field(default_factory=list)
    #: Visitor passes' QR payloads and short codes, for the traffic simulator (memory only).
    pass_payloads: list[str] = field(default_factory=list)
    pass_codes: list[str] = field(default_factory=list)


def community_exists(ctx: HubContext) -> bool:
    with ctx.db.read() as session:
        return session.scalar(
            select(PersonRow.id).where(PersonRow.site_id == ctx.site_id).limit(1)
        ) is not None


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}"


def _holidays(year: int) -> list[date]:
    return [date(year, 1, 1), date(year, 5, 1), date(year, 12, 25), date(year + 1, 1, 1)]


def build_community(
    ctx: HubContext, *, residents: int = 200, units: int = 80, seed: int = 7,
    now: datetime | None = None,
) -> Community:
    """Fill an empty site. Raises nothing for an existing one: call community_exists first."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    report = Community()
    create_gate(ctx, _SYSTEM, GateCreate(id=ENTRY_GATE, name="Main entrance turnstile",
                                         kind=GateKind.TURNSTILE))
    create_gate(ctx, _SYSTEM, GateCreate(id=DOOR_GATE, name="Garden door"))
    weekdays = [Window(weekday=d, start_minute=7 * 60, end_minute=19 * 60) for d in range(5)]
    staff = create_schedule(ctx, _SYSTEM, ScheduleCreate(
        name="Staff: weekdays 07-19", windows=weekdays, holidays=_holidays(now.year)))
    garden = create_schedule(ctx, _SYSTEM, ScheduleCreate(
        name="Garden: daily 06-22",
        windows=[Window(weekday=d, start_minute=6 * 60, end_minute=22 * 60) for d in range(7)]))

    card_numbers = rng.sample(range(0x100000, 0xFFFFFF), 2 * residents + 40)
    with ctx.db.write() as session:
        unit_rows = [
            UnitRow(id=new_id("unit"), site_id=ctx.site_id,
                    label=f"{1 + i // 8}{'ABCDEFGH'[i % 8]}")
            for i in range(units)
        ]
        session.add_all(unit_rows)
        session.flush()
        report.units = len(unit_rows)
        people: list[PersonRow] = []
        for index in range(residents):
            unit = unit_rows[index % units] if index < units else rng.choice(unit_rows)
            people.append(add_person(session, ctx, PersonCreate(name=_name(rng), unit_id=unit.id)))
        workers = [add_person(session, ctx, PersonCreate(name=_name(rng), role="staff"))
                   for _ in range(8)]
        guards = [add_person(session, ctx, PersonCreate(name=_name(rng), role="guard"))
                  for _ in range(2)]
        admin = add_person(session, ctx, PersonCreate(name=_name(rng), role="admin"))
        report.people = len(people) + len(workers) + len(guards) + 1

        def issue(person: PersonRow, **kw: object) -> CredentialRow:
            report.credentials += 1
            return add_credential(session, ctx, CredentialIssue(person_id=person.id, **kw))  # type: ignore[arg-type]

        numbers = iter(card_numbers)
        for index, person in enumerate(people):
            issue(person, kind="card", card_format="wiegand26", card_number=f"{next(numbers):06X}")
            if index % 2 == 0:
                issue(person, kind="mobile")
            if index % 10 == 3:  # keep PINs few: each is a deliberately slow argon2id hash
                issue(person, kind="pin", pin=f"{rng.randrange(10**6):06d}")
            if index % 7 == 5:
                issue(person, kind="card", card_format="wiegand26",
                      card_number=f"{next(numbers):06X}", gates=[DOOR_GATE],
                      schedule_id=garden.id)
        for person in workers:
            issue(person, kind="card", card_format="wiegand26", card_number=f"{next(numbers):06X}",
                  schedule_id=staff.id)
        for person in (*guards, admin):
            issue(person, kind="card", card_format="wiegand26", card_number=f"{next(numbers):06X}",
                  responder=True)
        # A few lost cards (revoked) and a contractor whose card has expired.
        for person in rng.sample(people, 4):
            lost = issue(person, kind="card", card_format="wiegand26",
                         card_number=f"{next(numbers):06X}")
            lost.revoked = True
        issue(workers[0], kind="card", card_format="wiegand26",
              card_number=f"{next(numbers):06X}", valid_until=now - timedelta(days=3))
        bump_version(session, ctx.site_id)
        resident_person, guard_person, admin_person = people[0], guards[0], admin
    report.logins = reset_demo_logins(
        ctx, person_ids={"resident": resident_person.id, "guard": guard_person.id,
                         "admin": admin_person.id})
    _issue_passes(ctx, rng, now, report)
    return report


def reset_demo_logins(ctx: HubContext, person_ids: dict[str, str] | None = None) -> list[DemoLogin]:
    """Give the demo logins fresh random passwords (created on first use) and return them."""
    logins = []
    for role, username in DEMO_USERNAMES.items():
        password = secrets.token_urlsafe(9)
        with ctx.db.read() as session:
            exists = session.scalar(select(UserRow.id).where(UserRow.username == username))
        if exists:
            with ctx.db.write() as session:
                session.execute(update(UserRow).where(UserRow.username == username)
                                .values(password_hash=accounts.hash_password(password)))
        else:
            person_id = (person_ids or {}).get(role)
            accounts.create_user(ctx, username, password, role, person_id)
        logins.append(DemoLogin(username=username, password=password, role=role))
    return logins


def _issue_passes(ctx: HubContext, rng: random.Random, now: datetime, report: Community) -> None:
    from doorward.domain.passes import issue_pass, new_pass_code, pass_code_digest
    from doorward.hub.services.common import subject_of

    with ctx.db.write() as session:
        hosts = session.scalars(
            select(PersonRow).where(PersonRow.role == "resident", PersonRow.unit_id.is_not(None))
            .order_by(PersonRow.id).limit(6)
        ).all()
        version = bump_version(session, ctx.site_id)
        rows = []
        for index, host in enumerate(hosts):
            code = new_pass_code()
            assert host.unit_id is not None
            row = PassRow(
                id=new_id("pass"), site_id=ctx.site_id,
                kind="delivery" if index % 3 == 2 else "visitor", host_person_id=host.id,
                host_unit_id=host.unit_id, visitor_name=rng.choice(_GIVEN),
                valid_from=now - timedelta(hours=1), valid_until=now + timedelta(days=2),
                max_uses=rng.randint(4, 20), uses=0,
                code_digest=pass_code_digest(code, ctx.pass_code_key), gates=[], revoked=False,
                version=version,
            )
            session.add(row)
            rows.append((row, subject_of(session, host.id) or ""))
            report.pass_codes.append(code)
    for row, subject in rows:
        report.pass_payloads.append(issue_pass(ctx.keys, pass_grant(row, subject)))
    report.passes = len(rows)


def active_pass_payloads(ctx: HubContext, now: datetime | None = None) -> list[str]:
    """QR payloads of the site's current passes, re-signed from the stored grants (the demo
    traffic uses them after a restart; Ed25519 signatures are deterministic)."""
    from doorward.domain.passes import issue_pass
    from doorward.store.models import SubjectMapRow

    now = now or datetime.now(UTC)
    with ctx.db.read() as session:
        rows = session.execute(
            select(PassRow, SubjectMapRow.subject)
            .outerjoin(SubjectMapRow, SubjectMapRow.person_id == PassRow.host_person_id)
            .where(PassRow.site_id == ctx.site_id, PassRow.valid_until > now)
        ).all()
    return [issue_pass(ctx.keys, pass_grant(row, subject or "")) for row, subject in rows]
