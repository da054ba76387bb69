"""Web fixtures: the real hub (API + pages) served by uvicorn on a free 127.0.0.1 port, in a
background thread, against a temporary SQLite data folder seeded with a community; logins for
each role; and Debian's Chromium driven by Playwright.

Pages are tested over real HTTP (httpx) and in a real browser, never through a test client.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn

from doorward.domain.model import CredentialKind, GateKind
from doorward.hub import web
from doorward.hub.app import create_app
from doorward.hub.schemas import CredentialIssue, GateCreate, PersonCreate, UnitCreate
from doorward.hub.services import accounts, credentials, gates, people
from doorward.hub.services.accounts import AuthUser
from doorward.hub.services.context import HubContext
from doorward.settings import Settings

PASSWORD = "correct horse battery"
SETUP = AuthUser(id="setup", username="test-setup", role="admin", person_id=None)
CARD_FORMAT = "H10301"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-gpu",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@dataclass
class LiveHub:
    base_url: str
    ctx: HubContext
    usernames: dict[str, str]  # role -> username
    resident_person_id: str
    other_person_id: str
    gate_ids: list[str] = field(default_factory=list)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=10)

    def login(self, client: httpx.Client, role: str) -> None:
        """Log in through the login form, as a browser would (CSRF token included)."""
        form = client.get("/login")
        response = client.post("/login", data={
            "username": self.usernames[role], "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
        })
        assert response.status_code == 303, response.text


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


def _seed(ctx: HubContext) -> tuple[str, str, list[str]]:
    """A small community: two gates, units, residents with keys, and the three logins."""
    gates.create_gate(ctx, SETUP, GateCreate(id="main", name="Main turnstile",
                                             kind=GateKind.TURNSTILE))
    gates.create_gate(ctx, SETUP, GateCreate(id="garden", name="Garden door"))
    persons = []
    for label, name in (("4B", "Ana Example"), ("7A", "Bruno Sample"), ("2C", "Chen Demo")):
        unit = people.create_unit(ctx, SETUP, UnitCreate(label=label))
        person = people.create_person(ctx, SETUP, PersonCreate(name=name, unit_id=unit.id))
        credentials.issue_credential(ctx, SETUP, CredentialIssue(
            person_id=person.id, kind=CredentialKind.MOBILE.value))  # type: ignore[arg-type]
        credentials.issue_credential(ctx, SETUP, CredentialIssue(
            person_id=person.id, kind=CredentialKind.CARD.value,  # type: ignore[arg-type]
            card_format=CARD_FORMAT, card_number=f"{len(persons) + 1:06X}"))
        persons.append(person.id)
    accounts.create_user(ctx, "admin", PASSWORD, "admin")
    accounts.create_user(ctx, "guard", PASSWORD, "guard")
    accounts.create_user(ctx, "ana", PASSWORD, "resident", persons[0])
    accounts.create_user(ctx, "bruno", PASSWORD, "resident", persons[1])
    return persons[0], persons[1], ["main", "garden"]


@pytest.fixture(scope="session")
def live_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    port = _free_port()
    data_dir = tmp_path_factory.mktemp("hub-data")
    settings = Settings(environment="test", data_dir=data_dir, site_id="site-web", port=port)
    app = create_app(settings)
    web.install(app)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            ws="none", lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-hub", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the hub did not start")
        time.sleep(0.05)
    ctx: HubContext = app.state.hub
    resident, other, gate_ids = _seed(ctx)
    try:
        yield LiveHub(
            base_url=f"http://127.0.0.1:{port}", ctx=ctx,
            usernames={"admin": "admin", "guard": "guard", "resident": "ana"},
            resident_person_id=resident, other_person_id=other, gate_ids=gate_ids,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=15)


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
