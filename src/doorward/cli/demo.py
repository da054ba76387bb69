"""``doorward demo``: the whole system in one process, with a made-up community.

SQLite in the data folder, the community created on first run, the hub on 127.0.0.1 with
simulated gate traffic, fresh demo passwords printed at every start. Ctrl-C stops it all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from doorward.cli.db import DataDirOption

__all__ = ["register"]


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
    from doorward.hub.services.context import HubContext
    from doorward.settings import Settings
    from doorward.sim.community import (
        active_pass_payloads,
        build_community,
        community_exists,
        reset_demo_logins,
    )
    from doorward.sim.traffic import GateTraffic
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

        def start_traffic(hub: HubContext) -> Callable[[], None]:
            if traffic <= 0:
                return lambda: None
            simulator = GateTraffic(hub, rate_per_second=traffic, pass_payloads=payloads,
                                    pass_codes=codes)
            simulator.start()
            return simulator.stop

        app = create_app(settings, database=db, workers=[start_traffic])
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
