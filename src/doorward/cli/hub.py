"""``doorward hub``: run the hub (API and web pages) from settings."""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer
from rich.console import Console

from doorward.cli.db import DatabaseUrlOption, DataDirOption

__all__ = ["register", "serve"]


def register(app: typer.Typer) -> None:
    app.command("hub")(hub)


def serve(app: object, host: str, port: int) -> None:
    """Run ``app`` with uvicorn until Ctrl-C / SIGTERM; uvicorn runs the lifespan shutdown."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="warning",  # type: ignore[arg-type]
                            access_log=False, lifespan="on")
    # uvicorn shuts down gracefully, then re-raises the Ctrl-C: that is our normal exit.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run()


def with_web_pages(app: object) -> None:
    """Add the server-rendered pages when that package is present."""
    try:
        from doorward.hub import web
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("doorward"):
            return
        raise
    web.install(app)  # type: ignore[arg-type]


def hub(
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
    host: Annotated[str | None, typer.Option(help="Listen address. Default: $DOORWARD_HOST.")]
    = None,
    port: Annotated[int | None, typer.Option(help="Listen port. Default: $DOORWARD_PORT.")]
    = None,
) -> None:
    """Run the hub from DOORWARD_* settings (see docs/configuration.md)."""
    from doorward.hub.app import create_app
    from doorward.settings import Settings

    settings = Settings.from_env(data_dir=data_dir, database_url=database_url, host=host,
                                 port=port)
    app = create_app(settings)
    with_web_pages(app)
    Console().print(f"Doorward hub for site [bold]{settings.site_id}[/] on "
                    f"http://{settings.host}:{settings.port}/  (Ctrl-C stops it)")
    serve(app, settings.host, settings.port)
