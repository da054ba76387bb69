"""The hub's app factory. Nothing is built at import: ``create_app(settings)`` returns an app
whose lifespan opens the database, loads the keys and starts the optional MQTT bridge, and
closes them again in reverse order.

Background jobs (the demo's traffic) come as ``workers``. Web pages come as extra routers:
``create_app(settings, extra_routers=[...])``, or ``app.include_router`` before it starts.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import APIRouter, FastAPI

from doorward.domain.memory import AccessMemory, AccessPolicy
from doorward.errors import DoorwardError, PermissionDenied
from doorward.hub.problems import install_problem_handlers
from doorward.hub.routers import API_PREFIX, ROUTERS
from doorward.hub.services import edge_health
from doorward.hub.services.accounts import LoginLimiter
from doorward.hub.services.common import ensure_site
from doorward.hub.services.context import HubContext
from doorward.hub.services.keystore import (
    load_or_create_hub_keys,
    load_or_create_pass_code_key,
    load_or_create_pseudonym_key,
)
from doorward.hub.services.passes import pass_uses
from doorward.hub.services.snapshots import current_version, snapshot_message
from doorward.settings import Settings
from doorward.store.db import Database
from doorward.store.eventlog import EventLog, load_or_create_chain_key
from doorward.transport.messages import EventBatch, Heartbeat, IngestAck

__all__ = ["Worker", "build_context", "create_app"]

#: A background job beside the hub: started with the context once the hub is ready; returns
#: the function that stops it. Stopped in reverse order before the database closes.
Worker = Callable[[HubContext], Callable[[], None]]

log = logging.getLogger("doorward.hub")


def build_context(settings: Settings, db: Database) -> HubContext:
    """Keys, event log and decision memory around an open, migrated database."""
    with db.write() as session:
        ensure_site(session, settings.site_id)
    policy = AccessPolicy(
        pin_max_failures=settings.pin_max_failures,
        pin_lockout_seconds=settings.pin_lockout_seconds,
        token_skew_steps=settings.token_skew_steps,
    )
    memory = AccessMemory(policy=policy)
    # Pass uses are counted in memory by the domain core; a restarted hub must not forget them.
    memory.pass_uses.update(pass_uses(db, settings.site_id))
    return HubContext(
        settings=settings,
        db=db,
        keys=load_or_create_hub_keys(settings),
        pseudonym_key=load_or_create_pseudonym_key(settings),
        pass_code_key=load_or_create_pass_code_key(settings),
        eventlog=EventLog(db, load_or_create_chain_key(settings)),
        memory=memory,
    )


def _start_mqtt_bridge(ctx: HubContext) -> Callable[[], None]:
    """Ingest events over MQTT, and answer a heartbeat whose snapshot version is behind with
    the delta (or a full snapshot). Returns the bridge's stop."""
    from doorward.transport.mqtt import HubMqttBridge

    def ingest(batch: EventBatch) -> IngestAck:
        if any(e.site_id != ctx.site_id for e in batch.events):
            raise PermissionDenied("an MQTT batch names another site", hint="check edge settings")
        ack = ctx.eventlog.append(batch.events)
        edge_health.relay_fire(ctx, batch.events, ack.accepted)
        return ack

    def on_heartbeat(gate_id: str, heartbeat: Heartbeat) -> None:
        try:
            edge_health.record_heartbeat(ctx, heartbeat.edge_id, heartbeat)
            if heartbeat.snapshot_version != current_version(ctx):
                since = heartbeat.snapshot_version
                bridge.publish_snapshot(gate_id, snapshot_message(ctx, gate_id, since))
        except DoorwardError as exc:  # an unknown gate, a busy database: the next beat retries
            log.warning("no snapshot for gate %s: %s", gate_id, exc)

    bridge = HubMqttBridge(ctx.settings.mqtt_url, ctx.site_id, ingest, on_heartbeat=on_heartbeat)
    bridge.start()
    ctx.edge_push = bridge.publish_command

    def stop() -> None:
        ctx.edge_push = None
        bridge.stop()

    return stop


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    extra_routers: Sequence[APIRouter] = (),
    workers: Sequence[Worker] = (),
) -> FastAPI:
    """The hub. Pass ``database`` to share an already-migrated one (tests); the app then
    leaves it open on shutdown. Otherwise it opens ``settings.effective_database_url``."""
    settings.check_safe()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            db = database
            if db is None:
                db = Database(settings.effective_database_url)
                stack.callback(db.dispose)
                db.migrate()
            ctx = build_context(settings, db)
            app.state.hub = ctx
            if settings.mqtt_url:
                stack.callback(_start_mqtt_bridge(ctx))
            stack.callback(edge_health.start_offline_watch(ctx))
            for start_worker in workers:
                stack.callback(start_worker(ctx))
            log.info("hub ready for site %s", settings.site_id)
            yield

    app = FastAPI(
        title="Doorward hub",
        version="0.1.0",
        description="Self-hosted, private-by-construction access control. See docs/api.md.",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.login_limiter = LoginLimiter(settings.login_rate_limit_per_minute)
    install_problem_handlers(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    for router in extra_routers:
        app.include_router(router)
    return app
