"""Web fixtures: the real hub (API + pages) served by uvicorn on a free 127.0.0.1 port, in a
background thread, against a temporary SQLite data folder seeded with the demo community
(``doorward.sim.community``) and its three logins; and Debian's Chromium driven by Playwright.

Pages are tested over real HTTP (httpx) and in a real browser, never through a test client.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, select, text

from doorward.hub import web
from doorward.hub.app import create_app
from doorward.hub.services.context import HubContext
from doorward.settings import Settings
from doorward.sim.community import DEMO_USERNAMES, DOOR_GATE, ENTRY_GATE, build_community
from doorward.store.db import Database, normalize_url
from doorward.store.models import CredentialRow, PersonRow, UnitRow, UserRow

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
POSTGRES_URL = os.environ.get(  # the same server as tests/conftest.py's ``db`` fixture
    "DOORWARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
LOGINS_PER_MINUTE = 30
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-gpu",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@dataclass
class Resident:
    """The demo community's resident login and what the tests need to know about them."""

    person_id: str
    name: str
    unit: str
    card_format: str
    card_number: str


@dataclass
class LiveHub:
    base_url: str
    ctx: HubContext
    passwords: dict[str, str]  # role -> password; the usernames are the role names
    resident: Resident
    entry_gate: str = ENTRY_GATE
    door_gate: str = DOOR_GATE
    _api_tokens: dict[str, str] = field(default_factory=dict)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=10)

    def username(self, role: str) -> str:
        return DEMO_USERNAMES[role]

    def login(self, client: httpx.Client, role: str) -> None:
        """Log in through the login form, as a browser would (CSRF token included)."""
        form = client.get("/login")
        response = client.post("/login", data={
            "username": self.username(role), "password": self.passwords[role],
            "csrf_token": csrf_of(form.text),
        })
        assert response.status_code == 303, response.text

    def api_token(self, role: str) -> str:
        """A bearer token from the API's login, made once (logins are rate-limited)."""
        if role not in self._api_tokens:
            with self.client() as client:
                response = client.post("/api/v1/auth/login", json={
                    "username": self.username(role), "password": self.passwords[role]})
                assert response.status_code == 200, response.text
                self._api_tokens[role] = str(response.json()["token"])
        return self._api_tokens[role]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _resident(ctx: HubContext, person_id: str) -> Resident:
    with ctx.db.read() as session:
        person = session.get(PersonRow, person_id)
        assert person is not None and person.unit_id is not None
        unit = session.get(UnitRow, person.unit_id)
        card = session.scalars(
            select(CredentialRow).where(CredentialRow.person_id == person_id,
                                        CredentialRow.kind == "card",
                                        CredentialRow.revoked.is_(False))
        ).first()
        assert unit is not None and card is not None and card.card_number
        return Resident(person_id, person.name, unit.label, card.card_format or "",
                        card.card_number)


@contextmanager
def _serve(data_dir: Path, database: Database | None = None) -> Iterator[LiveHub]:
    """Run the hub with its pages in a background uvicorn thread, seeded with the demo
    community; stop it afterwards."""
    port = _free_port()
    # Many tests log the same three demo accounts in within a minute: allow for that.
    settings = Settings(environment="test", data_dir=data_dir, site_id="site-web", port=port,
                        database_url=database.url if database else "",
                        login_rate_limit_per_minute=LOGINS_PER_MINUTE)
    app = create_app(settings, database=database)
    web.install(app)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            ws="none", lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-hub", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the hub did not start")
            time.sleep(0.05)
        ctx: HubContext = app.state.hub
        community = build_community(ctx)
        passwords = {login.role: login.password for login in community.logins}
        with ctx.db.read() as session:
            resident_id = session.scalar(
                select(UserRow.person_id).where(UserRow.username == DEMO_USERNAMES["resident"]))
        assert resident_id is not None
        yield LiveHub(base_url=f"http://127.0.0.1:{port}", ctx=ctx, passwords=passwords,
                      resident=_resident(ctx, resident_id))
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="session")
def live_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    """The hub with its pages, serving the demo community from a temporary SQLite folder."""
    with _serve(tmp_path_factory.mktemp("hub-data")) as hub:
        yield hub


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql",
                                                               marks=pytest.mark.postgres)])
def any_db_hub(request: pytest.FixtureRequest, live_hub: LiveHub,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    """The live hub on SQLite, and a second one on a throwaway PostgreSQL schema."""
    if request.param == "sqlite":
        yield live_hub
        return
    schema = f"t_web_{secrets.token_hex(5)}"
    admin = create_engine(normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    database = Database(f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}")
    try:
        database.migrate()
        with _serve(tmp_path_factory.mktemp("hub-data-pg"), database) as hub:
            yield hub
    finally:
        database.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's Chromium (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (./scripts/services installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def shoot(page: object, name: str) -> None:
    """Save a full-page screenshot to artifacts/screenshots/ (gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def unlabelled_fields(page: object) -> list[str]:
    """Names of visible form fields on the page that have no <label>."""
    found: list[str] = page.evaluate(  # type: ignore[attr-defined]
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
             .filter(el => !(el.labels && el.labels.length)).map(el => el.name || el.id)""")
    return found
