"""Edges and the hub together over the real HTTP link: heartbeats and the offline alarm,
manual open and lockdown reaching the edge, a fire input opening every gate of the site.
Each test runs on SQLite and on PostgreSQL (the ``db`` fixture)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from doorward.domain.model import CardData, Outcome
from doorward.edge.readers import ReaderInput
from doorward.errors import InvalidInput
from doorward.hub.services import edge_health
from doorward.hub.web import services
from doorward.hub.web.rendering import PageUser
from doorward.store.models import AuditEntry, utcnow

from .conftest import (
    OFFLINE_SECONDS,
    PASSWORD,
    RESIDENT_CARD,
    RESPONDER_CARD,
    LiveSite,
    wait_for,
)

GUARD = PageUser(user_id="u-guard", username="guard", role="guard", person_id=None,
                 session_digest="0" * 64)


def _status(site: LiveSite, gate_id: str) -> services.GateStatus:
    return next(g for g in services.gate_status(site.ctx) if g.id == gate_id)


def _hub_events(site: LiveSite, **filters: str) -> list[object]:
    return [e for e in site.ctx.eventlog.events(site_id=site.ctx.site_id, limit=1000)
            if all(getattr(e, k) == v for k, v in filters.items())]


def _card(site: LiveSite, gate_id: str, card: tuple[str, str]) -> Outcome:
    presented = ReaderInput(f"{gate_id}-r", "card", card=CardData(*card))
    return site.edges[gate_id].controller.handle_input(presented).decision.outcome


def test_heartbeats_show_online_and_a_silent_edge_raises_one_offline_alarm(
    live_site: LiveSite,
) -> None:
    live_site.start_edge("gate-a")
    assert wait_for(lambda: _status(live_site, "gate-a").online)
    never = _status(live_site, "gate-b")
    assert (never.online, never.has_edge) == (False, False)
    assert not _hub_events(live_site, alarm="edge_offline")

    live_site.stop_edge("gate-a")
    assert wait_for(lambda: bool(_hub_events(live_site, alarm="edge_offline")),
                    OFFLINE_SECONDS + 8)
    assert not _status(live_site, "gate-a").online
    alarms = services.open_alarms(live_site.ctx)
    assert [a.event.gate_id for a in alarms if a.event.alarm == "edge_offline"] == ["gate-a"]
    time.sleep(1.5)  # the watcher runs several more times: still one alarm
    assert len(_hub_events(live_site, alarm="edge_offline")) == 1
    assert not _hub_events(live_site, alarm="edge_offline", gate_id="gate-b")

    live_site.start_edge("gate-a")  # back: logged online, shown online
    assert wait_for(lambda: bool(_hub_events(live_site, outcome="edge_online")))
    assert _status(live_site, "gate-a").online


def test_manual_open_and_lockdown_reach_the_edges_and_are_audited(
    live_site: LiveSite,
) -> None:
    a, b = live_site.start_edge("gate-a"), live_site.start_edge("gate-b")
    assert _card(live_site, "gate-a", RESIDENT_CARD) is Outcome.GRANTED
    pulses_a, pulses_b = a.relay.count("pulse"), b.relay.count("pulse")

    with pytest.raises(InvalidInput):
        services.manual_open(live_site.ctx, GUARD, "gate-a", "")
    services.manual_open(live_site.ctx, GUARD, "gate-a", "delivery cart stuck at the door")
    assert wait_for(lambda: a.relay.count("pulse") == pulses_a + 1, 3)
    assert b.relay.count("pulse") == pulses_b
    assert wait_for(lambda: bool(_hub_events(live_site, kind="system", outcome="manual_open")))
    assert edge_health.pending_commands(live_site.ctx, "gate-a").commands == []  # acknowledged

    guard = live_site.login("guard")
    refused = httpx.post(f"{live_site.url}/api/v1/edge/lockdown", headers=guard,
                         json={"active": True, "reason": "no"})
    assert refused.status_code == 422
    response = httpx.post(f"{live_site.url}/api/v1/edge/lockdown", headers=guard,
                          json={"active": True, "reason": "intruder reported in block C"})
    assert response.status_code == 200, response.text
    assert {c["gate_id"] for c in response.json()["commands"]} == {"gate-a", "gate-b", "gate-c"}
    assert wait_for(lambda: a.controller.lockdown and b.controller.lockdown, 3)
    assert _card(live_site, "gate-a", RESIDENT_CARD) is not Outcome.GRANTED
    assert _card(live_site, "gate-b", RESPONDER_CARD) is Outcome.GRANTED
    assert wait_for(lambda: all(g.lockdown for g in services.gate_status(live_site.ctx)))

    services.set_lockdown(live_site.ctx, GUARD, False, "police gave the all-clear")
    assert wait_for(lambda: not a.controller.lockdown and not b.controller.lockdown, 3)
    assert _card(live_site, "gate-a", RESIDENT_CARD) is Outcome.GRANTED
    assert wait_for(lambda: not any(g.lockdown for g in services.gate_status(live_site.ctx)))
    with live_site.ctx.db.read() as session:
        audited = session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.purpose)
                                  .where(AuditEntry.action.like("site.%"))).all()
        opened = session.scalars(select(AuditEntry.purpose)
                                 .where(AuditEntry.action == "gate.manual_open")).all()
    assert sorted(audited) == [
        ("guard", "site.lockdown", "intruder reported in block C"),
        ("guard", "site.release", "police gave the all-clear"),
    ]
    assert opened == ["delivery cart stuck at the door"]


def test_fire_at_one_gate_opens_every_gate_of_the_site_within_a_second(
    live_site: LiveSite,
) -> None:
    edges = [live_site.start_edge(g) for g in ("gate-a", "gate-b", "gate-c")]
    a, others = edges[0], edges[1:]
    a.fire.set(True)
    started = time.monotonic()
    assert a.relay.count("hold_open") == 1
    assert wait_for(lambda: all(e.relay.count("hold_open") == 1 for e in others), 1.0), (
        f"not all gates open after {time.monotonic() - started:.2f} s")
    assert all(e.relay.is_open for e in edges)
    assert wait_for(lambda: len(_hub_events(live_site, alarm="fire")) == 3)
    sources = {e.gate_id: e.detail.get("source")  # type: ignore[attr-defined]
               for e in _hub_events(live_site, alarm="fire")}
    assert sources == {"gate-a": "input", "gate-b": "hub", "gate-c": "hub"}

    a.fire.set(False)
    assert wait_for(lambda: all(e.relay.count("release_hold") == 1 for e in edges), 3)
    assert not any(e.relay.is_open for e in edges)
    time.sleep(1.0)  # relayed fires are never relayed again
    assert all(e.relay.count("hold_open") == 1 for e in edges)


def test_commands_expire_and_an_edge_acknowledges_only_its_own(live_site: LiveSite) -> None:
    ctx = live_site.ctx
    sent = edge_health.issue_command(ctx, ["gate-a", "gate-b"], "manual_open", "test")
    assert [c.command for c in edge_health.pending_commands(ctx, "gate-a").commands] == [
        "manual_open"]
    later = utcnow() + timedelta(seconds=30)
    assert edge_health.pending_commands(ctx, "gate-a", later).commands == []
    assert edge_health.acknowledge_commands(ctx, "gate-a", [sent[1].command_id]) == 0
    assert edge_health.acknowledge_commands(ctx, "gate-a", [sent[0].command_id]) == 1
    assert edge_health.pending_commands(ctx, "gate-a").commands == []
    assert len(edge_health.pending_commands(ctx, "gate-b").commands) == 1
    with pytest.raises(InvalidInput):
        edge_health.issue_command(ctx, ["gate-a"], "self_destruct")


def test_an_edge_token_reaches_only_its_own_gate(live_site: LiveSite) -> None:
    from doorward.hub.services import accounts

    from .conftest import SYSTEM

    _, token = accounts.create_edge_token(live_site.ctx, SYSTEM, "gate-a")
    auth = {"Authorization": f"Bearer {token}"}
    mine = httpx.get(f"{live_site.url}/api/v1/edge/commands", params={"gate_id": "gate-a"},
                     headers=auth)
    assert mine.status_code == 200 and mine.json() == {"commands": []}
    other = httpx.get(f"{live_site.url}/api/v1/edge/commands", params={"gate_id": "gate-b"},
                      headers=auth)
    assert other.status_code == 403
    beat = {"edge_id": "x", "gate_id": "gate-b", "sent_at": utcnow().isoformat(),
            "snapshot_version": 0, "outbox_depth": 0}
    assert httpx.post(f"{live_site.url}/api/v1/edge/heartbeat", json=beat,
                      headers=auth).status_code == 403
    assert httpx.post(f"{live_site.url}/api/v1/edge/heartbeat", json=beat).status_code == 401
    guard_only = httpx.post(f"{live_site.url}/api/v1/edge/lockdown", headers=auth,
                            json={"active": True, "reason": "an edge cannot do this"})
    assert guard_only.status_code == 401


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def _gate_badges(html: str, gate_id: str) -> str:
    found = re.search(rf'<div class="gate" data-gate="{gate_id}".*?</div>', html, re.S)
    assert found, f"no status for {gate_id}"
    return found.group(0)


def test_the_console_shows_heartbeats_and_its_controls_reach_the_edge(
    live_site: LiveSite,
) -> None:
    a = live_site.start_edge("gate-a")
    with httpx.Client(base_url=live_site.url, timeout=10) as browser:
        login = browser.get("/login")
        assert browser.post("/login", data={"username": "guard", "password": PASSWORD,
                                            "csrf_token": _csrf(login.text)}
                            ).status_code == 303
        assert wait_for(lambda: _status(live_site, "gate-a").online)
        page = browser.get("/console").text
        assert ">online<" in _gate_badges(page, "gate-a")
        assert ">no edge<" in _gate_badges(page, "gate-b")

        token = _csrf(page)
        refused = browser.post("/console/lockdown", data={
            "csrf_token": token, "action": "lockdown", "reason": ""})
        assert refused.status_code == 422 and not a.controller.lockdown
        done = browser.post("/console/lockdown", data={
            "csrf_token": token, "action": "lockdown", "reason": "fire drill, keep out"})
        assert done.status_code == 200 and "Lockdown sent to 3 gate(s)" in done.text
        assert wait_for(lambda: a.controller.lockdown, 3)
        assert "lockdown" in _gate_badges(browser.get("/console").text, "gate-a")

        pulses = a.relay.count("pulse")
        opened = browser.post("/console/gates/open", data={
            "csrf_token": token, "gate_id": "gate-a", "reason": "a responder without a card"})
        assert opened.status_code == 200
        assert wait_for(lambda: a.relay.count("pulse") == pulses + 1, 3)

        live_site.stop_edge("gate-a")
        assert wait_for(lambda: bool(_hub_events(live_site, alarm="edge_offline")),
                        OFFLINE_SECONDS + 8)
        page = browser.get("/console").text
        assert ">offline<" in _gate_badges(page, "gate-a")
        assert re.search(r'<li class="alarm"[^>]*>\s*<strong>edge offline</strong>', page)
