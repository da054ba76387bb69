"""``doorward demo``: the whole system in one process, with a made-up community.

SQLite in the data folder, the community created on first run, the hub on 127.0.0.1, and
one edge daemon per gate (simulated reader and hardware, data under ``edge/<gate>/``)
talking to the hub over the HTTP link with its own edge token. Simulated people present
credentials at those readers, so the edges decide and their events reach the hub through
their outboxes. Fresh demo passwords are printed at every start. Ctrl-C stops it all: the
traffic, then the edges, then the hub.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from doorward.cli.db import DataDirOption

if TYPE_CHECKING:
    from doorward.hub.services.context import HubContext

__all__ = ["register"]

#: How long the traffic waits for the edges' first snapshots (the hub failed to start).
SNAPSHOT_WAIT_SECONDS = 60.0


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    data_dir: DataDirOption = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 8000,
    traffic: Annotated[
        float, typer.Option(min=0.0, max=50.0, help="Simulated presentations per second (0: none).")
    ] = 0.5,
) -> None:
    """Run a demo hub with a simulated community and live gate traffic."""
    from doorward.cli.hub import serve, with_web_pages
    from doorward.hub.app import build_context, create_app
    from doorward.settings import Settings
    from doorward.sim.community import (
        active_pass_payloads,
        build_community,
        community_exists,
        reset_demo_logins,
    )
    from doorward.store.db import Database

    console = Console()
    settings = Settings.from_env(
        data_dir=data_dir, database_url="", environment="development",
        host="127.0.0.1", port=port, mqtt_url="",
    )
    db = Database(settings.effective_database_url)
    try:
        db.migrate()
        ctx = build_context(settings, db)
        codes: list[str] = []
        if community_exists(ctx):
            logins = reset_demo_logins(ctx)
            console.print(f"Using the demo community in {settings.data_dir}")
        else:
            with console.status("Creating the demo community..."):
                community = build_community(ctx)
            logins, codes = community.logins, community.pass_codes
            console.print(
                f"Created a demo community in {settings.data_dir}: {community.units} units, "
                f"{community.people} people, {community.credentials} credentials, "
                f"{community.passes} visitor passes"
            )
        payloads = active_pass_payloads(ctx)

        def start_gates(hub: HubContext) -> Callable[[], None]:
            return _start_demo_gates(hub, traffic, payloads, codes)

        app = create_app(settings, database=db, workers=[start_gates])
        with_web_pages(app)
        table = Table(title="Demo logins (new passwords at every start)")
        for column in ("role", "username", "password"):
            table.add_column(column)
        for login in logins:
            table.add_row(login.role, login.username, login.password)
        console.print(table)
        console.print(f"Doorward demo on [bold]http://127.0.0.1:{port}/[/]  "
                      f"(API: http://127.0.0.1:{port}/api/v1/docs). Ctrl-C stops it.")
        serve(app, "127.0.0.1", port)
    finally:
        db.dispose()
    console.print("demo stopped")


def _start_demo_gates(hub: HubContext, rate: float, payloads: Sequence[str],
                      codes: Sequence[str]) -> Callable[[], None]:
    """Start the edges, then (once each holds a snapshot) the traffic at their readers.
    Returns the stop, which undoes them in reverse.

    The edges start before the hub listens (workers start first); their first request fails
    quietly and is retried a second later, so traffic waits for their snapshots instead of
    being refused by gates that know nobody yet."""
    from doorward.sim.demo_gates import DemoGates
    from doorward.sim.traffic import EdgeTraffic

    gates = DemoGates(hub, f"http://127.0.0.1:{hub.settings.port}")
    gates.start()
    stopping = threading.Event()
    running: list[EdgeTraffic] = []

    def start_traffic() -> None:
        deadline = time.monotonic() + SNAPSHOT_WAIT_SECONDS
        while not all(g.controller.snapshot_version for g in gates.gates.values()):
            if stopping.wait(0.1) or time.monotonic() > deadline:
                return
        if rate > 0 and not stopping.is_set():
            people = EdgeTraffic(hub, gates.devices, rate_per_second=rate,
                                 pass_payloads=payloads, pass_codes=codes)
            people.start()
            running.append(people)

    starter = threading.Thread(target=start_traffic, name="doorward-demo-traffic", daemon=True)
    starter.start()

    def stop() -> None:
        stopping.set()
        starter.join(30)
        for people in running:
            people.stop()
        gates.stop()

    return stop
