"""``doorward edge``: run the controller daemon for one gate until Ctrl-C."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from doorward.edge.daemon import run_edge

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("edge")(edge)


def edge(
    gate: Annotated[str, typer.Option("--gate", help="The gate id this edge runs.")],
    hub: Annotated[
        str, typer.Option("--hub", help="https://hub or mqtt://broker:1883 (mqtts:// for TLS).")
    ],
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Where the outbox, snapshot and reader keys live."),
    ] = None,
    reader: Annotated[
        str, typer.Option("--reader", help="sim, or osdp:/dev/ttyUSB0 for an OSDP reader.")
    ] = "sim",
    site: Annotated[str | None, typer.Option("--site", help="Site id (default: settings).")] = None,
    token: Annotated[
        str,
        typer.Option("--token", help="Edge token for an HTTPS hub.", envvar="DOORWARD_EDGE_TOKEN"),
    ] = "",
) -> None:
    """Run the offline-first controller for one gate until Ctrl-C, then stop cleanly."""
    run_edge(
        gate=gate,
        hub=hub,
        data_dir=data_dir,
        reader=reader,
        site=site,
        token=token,
        echo=typer.echo,
    )
