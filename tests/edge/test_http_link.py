"""The HTTPS transport over a real HTTP socket, against a stand-in for the hub's edge API.

The stand-in speaks exactly the contract (POST /api/v1/edge/events, GET
/api/v1/edge/snapshot?gate_id=G&since=V, POST /api/v1/edge/heartbeat, GET
/api/v1/edge/commands and POST /api/v1/edge/commands/ack, bearer token); the hub's own tests
and tests/integration cover the hub.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from doorward.domain.model import CardData, Outcome
from doorward.edge.readers import ReaderInput
from doorward.errors import TransportError
from doorward.transport.http import HttpEdgeLink
from doorward.transport.link import LinkHandlers
from doorward.transport.messages import (
    CommandList,
    EventBatch,
    Heartbeat,
    IngestAck,
    SnapshotMessage,
)

from .conftest import CARD, Gate, Site

TOKEN = "edge-token-123"


class StandInHub:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.snapshot = site.full_snapshot(version=5)
        self.events: set[str] = set()
        self.since: list[int] = []
        self.heartbeats: list[Heartbeat] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                """Quiet."""

            def _reply(self, status: int, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                    return True
                self._reply(401, json.dumps({"detail": "bad token"}))
                return False

            def do_POST(self) -> None:
                if not self._authorized():
                    return
                length = int(self.headers["Content-Length"])
                path = urlsplit(self.path).path
                if path in ("/api/v1/edge/heartbeat", "/api/v1/edge/commands/ack"):
                    body = self.rfile.read(length)
                    if path.endswith("heartbeat"):
                        hub.heartbeats.append(Heartbeat.model_validate_json(body))
                    self.send_response(204)
                    self.end_headers()
                    return
                batch = EventBatch.model_validate_json(self.rfile.read(length))
                ids = [e.event_id for e in batch.events]
                ack = IngestAck(
                    accepted=[i for i in ids if i not in hub.events],
                    duplicates=[i for i in ids if i in hub.events],
                )
                hub.events.update(ids)
                self._reply(200, ack.model_dump_json())

            def do_GET(self) -> None:
                if not self._authorized():
                    return
                query = parse_qs(urlsplit(self.path).query)
                assert query["gate_id"] == [hub.site.gate_id]
                if urlsplit(self.path).path == "/api/v1/edge/commands":
                    self._reply(200, CommandList().model_dump_json())
                    return
                hub.since.append(int(query["since"][0]))
                self._reply(200, hub.snapshot.model_dump_json())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def stand_in(site: Site) -> Iterator[StandInHub]:
    hub = StandInHub(site)
    try:
        yield hub
    finally:
        hub.close()


def test_edge_over_https_polls_snapshot_and_forwards_events(
    site: Site, tmp_path: Path, stand_in: StandInHub
) -> None:
    gate = Gate(site, tmp_path / "edge", link=HttpEdgeLink(stand_in.url, site.gate_id, TOKEN))
    gate.controller.start()
    try:
        deadline = time.monotonic() + 5
        while gate.controller.snapshot_version != 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stand_in.since[0] == 0
        handled = gate.controller.handle_input(ReaderInput("r1", "card", card=CardData(*CARD)))
        assert handled.decision.outcome is Outcome.GRANTED
        outbox = gate.controller.outbox
        assert outbox is not None
        while outbox.depth() and time.monotonic() < deadline + 5:
            time.sleep(0.05)
        assert outbox.depth() == 0
        assert handled.event.event_id in stand_in.events
    finally:
        gate.controller.stop()


def test_wrong_token_is_a_transport_error_with_a_hint(site: Site, stand_in: StandInHub) -> None:
    link = HttpEdgeLink(stand_in.url, site.gate_id, "wrong")
    snapshots: list[SnapshotMessage] = []
    link.start(LinkHandlers(on_snapshot=snapshots.append))
    try:
        with pytest.raises(TransportError) as caught:
            link.request_snapshot(0)
        assert "token" in caught.value.hint
        assert snapshots == []
    finally:
        link.stop()


def test_unreachable_hub_is_a_transport_error(site: Site) -> None:
    link = HttpEdgeLink("http://127.0.0.1:9", site.gate_id, TOKEN, timeout=1)
    link.start(LinkHandlers())
    try:
        with pytest.raises(TransportError):
            link.request_snapshot(0)
    finally:
        link.stop()
