"""The demo's people at real edges: presentations at the simulated readers are decided by
the edges, the doors open after grants and close again, and everything reaches the hub."""

from __future__ import annotations

import time
from collections import Counter

from doorward.sim.traffic import EdgeTraffic, GateDevices

from .conftest import LiveSite, wait_for


def test_traffic_at_the_readers_is_decided_by_the_edges_and_logged_at_the_hub(
    live_site: LiveSite,
) -> None:
    edges = [live_site.start_edge(g) for g in ("gate-a", "gate-b")]
    devices = {e.gate_id: GateDevices(e.reader, e.relay, e.door, e.beam, held_open_seconds=30)
               for e in edges}
    people = EdgeTraffic(live_site.ctx, devices, rate_per_second=25, seed=11)
    people.start()
    assert wait_for(lambda: people.presented >= 25, 20)
    people.stop()
    stopped_at = people.presented
    assert not any(e.door.active for e in edges)  # stop closes the doors it opened
    time.sleep(0.5)
    assert people.presented == stopped_at

    def logged() -> Counter[tuple[str, str]]:
        events = live_site.ctx.eventlog.events(site_id=live_site.ctx.site_id, limit=1000)
        return Counter((e.kind, e.outcome) for e in events)

    # Every presentation was decided at an edge and forwarded through its outbox.
    assert wait_for(lambda: sum(n for (k, _), n in logged().items() if k == "access")
                    >= stopped_at, 10)
    counts = logged()
    assert counts[("access", "granted")] > 0
    assert counts[("access", "unknown_credential")] > 0
    assert counts[("door", "opened")] > 0
    assert counts[("door", "opened")] == counts[("door", "closed")]
    granted_pulses = sum(e.relay.count("pulse") for e in edges)
    assert granted_pulses == counts[("access", "granted")]
