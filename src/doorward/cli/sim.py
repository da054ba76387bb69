"""``doorward sim`` (a simulated fleet of edges over MQTT) and ``doorward hub-worker`` (one of
several hub processes that ingest the edges' events through a shared subscription)."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from doorward.cli.db import DatabaseUrlOption, DataDirOption, display_url, settings_from_options
from doorward.errors import ConfigError, TransportError
from doorward.hub.ingest_worker import IngestWorker, IngestWorkerConfig
from doorward.sim.soak import SoakConfig, SoakProgress, run_soak
from doorward.store.db import Database
from doorward.store.eventlog import EventLog, load_or_create_chain_key

__all__ = ["register"]

MqttOption = Annotated[
    str | None,
    typer.Option("--mqtt", help="Broker URL, mqtt://host:1883 or mqtts://user:pass@host:8883. "
                 "Default: $DOORWARD_MQTT_URL.", show_default=False),
]


def register(app: typer.Typer) -> None:
    app.command("sim")(sim)
    app.command("hub-worker")(hub_worker)


def _mqtt_url(option: str | None, settings_url: str) -> str:
    url = option or settings_url
    if not url:
        raise ConfigError("no MQTT broker given",
                          hint="pass --mqtt mqtt://127.0.0.1:1883 or set DOORWARD_MQTT_URL")
    return url


def sim(
    edges: Annotated[int, typer.Option("--edges", min=1, help="Simulated edges (gates).")] = 100,
    rate: Annotated[float, typer.Option("--rate", min=0.001, help="Events per second per edge, "
                                        "on average.")] = 1.0,
    duration: Annotated[float, typer.Option("--duration", min=1, help="Seconds of traffic.")] = 60,
    mqtt: MqttOption = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
    workers: Annotated[int, typer.Option("--workers", min=0, help="Hub ingest workers to start "
                       "(0: a hub elsewhere ingests).")] = 2,
    processes: Annotated[int, typer.Option("--processes", min=1, help="Fleet processes; each "
                         "hosts edges/processes logical edges on one connection.")] = 4,
    revoke: Annotated[int, typer.Option("--revoke", min=0, help="Credentials revoked mid-run.")
                      ] = 10,
    profile: Annotated[str, typer.Option("--profile", help="flat, or day: a day compressed into "
                       "the run, with morning and evening peaks.")] = "day",
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report here.")
                        ] = None,
) -> None:
    """Run N simulated edges against the broker and print what arrived, and how fast."""
    if profile not in ("flat", "day"):
        raise ConfigError(f"--profile {profile!r} is unknown", hint="use flat or day")
    settings = settings_from_options(data_dir, database_url)
    url = _mqtt_url(mqtt, settings.mqtt_url)
    db_url = settings.effective_database_url if workers else ""
    config = SoakConfig(
        mqtt_url=url, data_dir=settings.data_dir, edges=edges, rate=rate, duration=duration,
        database_url=db_url, workers=workers, processes=processes, revoke=revoke, profile=profile,
        drain_seconds=max(30.0, duration / 4),
    )
    console = Console()
    if db_url:
        console.print(f"hub workers: {workers} on {display_url(db_url)}")
    expected = edges * rate * duration
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("starting", total=expected, info="")

        def show(p: SoakProgress) -> None:
            bar.update(task, completed=p.acked, description=p.phase,
                       info=f"{p.generated:,} recorded, {p.acked:,} acked, "
                            f"{p.generated - p.acked:,} in outboxes")

        report = run_soak(config, show)
    _print_report(console, report)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report, indent=2))


def _print_report(console: Console, report: dict[str, Any]) -> None:
    lat, rev = report["latency_ms"], report["revocation"]
    console.print(f"events: {report['events']:,} ({report['throughput_per_s']}/s), "
                  f"acked {report['acked']:,}, left in outboxes {report['left_in_outboxes']:,}, "
                  f"resends {report['resends']}")
    console.print(f"edge record -> hub ack: p50 {lat['p50']} ms, p99 {lat['p99']} ms")
    if rev["credentials"]:
        console.print(f"revocation of {rev['credentials']} credentials reached "
                      f"{rev['edges_affected'] - rev['edges_missing']}/{rev['edges_affected']} "
                      f"edges: p50 {rev['p50_ms']} ms, p99 {rev['p99_ms']} ms")
    if "delivery" in report:
        d = report["delivery"]
        console.print(f"stored {d['stored']:,}, lost {d['lost']}, duplicates {d['duplicates']}")
    if "chain" in report:
        console.print(f"hash chains: {'OK' if report['chain']['ok'] else 'BROKEN'} "
                      f"({report['chain']['entries']:,} entries)")
    for group, usage in report["processes"].items():
        console.print(f"{group}: {usage['cores']} cores, peak RSS {usage['rss_peak_mib']} MiB")


def hub_worker(
    mqtt: MqttOption = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
    share_group: Annotated[str, typer.Option("--share-group", help="Workers of one group split "
                           "the events between them.")] = "hub",
    site: Annotated[list[str] | None, typer.Option("--site", help="Ingest this site (repeat); "
                    "default every site.")] = None,
    max_batch: Annotated[int, typer.Option("--max-batch", min=1, help="Most events stored in "
                         "one transaction.")] = 2000,
    linger_ms: Annotated[float, typer.Option("--linger-ms", min=0, help="Wait this long for "
                         "more messages before a commit.")] = 20.0,
    migrate: Annotated[bool, typer.Option("--migrate/--no-migrate", help="Upgrade the schema "
                       "first (let one worker do it).")] = True,
) -> None:
    """Ingest edges' events from MQTT into the event log until stopped (SIGTERM / Ctrl-C)."""
    settings = settings_from_options(data_dir, database_url)
    config = IngestWorkerConfig(
        mqtt_url=_mqtt_url(mqtt, settings.mqtt_url), share_group=share_group,
        sites=tuple(site or ("+",)), max_batch_events=max_batch, linger_seconds=linger_ms / 1000,
    )
    database = Database(settings.effective_database_url)
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        if migrate:
            database.migrate()
        eventlog = EventLog(database, load_or_create_chain_key(settings))
        eventlog.count(site_id="")  # fail now, not at the first event, if the database is away
        worker = IngestWorker(eventlog, config)
        worker.start()
        try:
            if not worker.wait_connected(30):
                raise TransportError(f"cannot reach the MQTT broker at {config.mqtt_url}",
                                     hint="check the URL, the broker and its credentials")
            typer.echo("ready")
            stop.wait()
        finally:
            worker.stop()
        typer.echo(json.dumps(worker.stats.as_dict()))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        database.dispose()
