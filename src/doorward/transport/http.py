"""The HTTPS transport for a single building: the edge calls the hub's edge API with httpx.

``POST /api/v1/edge/events`` (EventBatch -> IngestAck),
``GET /api/v1/edge/snapshot?gate_id=G&since=V`` (-> SnapshotMessage, full when the versions
disagree), ``POST /api/v1/edge/heartbeat`` and ``GET /api/v1/edge/commands?gate_id=G``
(-> CommandList) then ``POST /api/v1/edge/commands/ack`` (CommandAck), all with
``Authorization: Bearer <edge token>``. The hub cannot push over HTTPS, so the uplink polls
for snapshots (every 10 s) and for commands (every half second).
"""

from __future__ import annotations

from typing import TypeVar

import httpx
from pydantic import ValidationError

from doorward.errors import TransportError
from doorward.transport.link import LinkHandlers
from doorward.transport.messages import (
    CommandAck,
    CommandList,
    EventBatch,
    Heartbeat,
    IngestAck,
    SnapshotMessage,
)

__all__ = ["HttpEdgeLink"]

_Reply = TypeVar("_Reply", IngestAck, SnapshotMessage, CommandList)


class HttpEdgeLink:
    """An :class:`~doorward.transport.link.EdgeLink` over HTTPS (or HTTP on a test bench)."""

    polls_snapshots = True

    def __init__(
        self,
        hub_url: str,
        gate_id: str,
        token: str,
        *,
        timeout: float = 5.0,
        verify: bool | str = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.gate_id = gate_id
        self._client_args = {
            "base_url": hub_url.rstrip("/"),
            "headers": {"Authorization": f"Bearer {token}"},
            "timeout": timeout,
            "verify": verify,
            "transport": transport,
        }
        self._client: httpx.Client | None = None
        self._handlers = LinkHandlers()
        self._connected = False

    def start(self, handlers: LinkHandlers) -> None:
        self._handlers = handlers
        self._client = httpx.Client(**self._client_args)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._connected = False

    @property
    def connected(self) -> bool:
        # Optimistic until a request fails: HTTPS has no standing connection to watch.
        return self._client is not None

    def send_events(self, batch: EventBatch) -> None:
        response = self._request("POST", "/api/v1/edge/events", content=batch.model_dump_json())
        self._handlers.on_ack(self._parse(IngestAck, response))

    def send_heartbeat(self, heartbeat: Heartbeat) -> None:
        self._request("POST", "/api/v1/edge/heartbeat", content=heartbeat.model_dump_json())

    def poll_commands(self) -> None:
        """Fetch waiting commands, hand each to ``on_command``, then acknowledge them. A
        command whose handler failed is not acknowledged, so the hub offers it again until
        it expires."""
        response = self._request("GET", "/api/v1/edge/commands", params={"gate_id": self.gate_id})
        done: list[str] = []
        try:
            for command in self._parse(CommandList, response).commands:
                self._handlers.on_command(command)
                if command.command_id:
                    done.append(command.command_id)
        finally:
            if done:
                ack = CommandAck(command_ids=done).model_dump_json()
                self._request("POST", "/api/v1/edge/commands/ack", content=ack)

    def request_snapshot(self, since_version: int) -> None:
        response = self._request(
            "GET",
            "/api/v1/edge/snapshot",
            params={"gate_id": self.gate_id, "since": since_version},
        )
        self._handlers.on_snapshot(self._parse(SnapshotMessage, response))

    def _request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        if self._client is None:
            raise TransportError("the HTTPS link is not started")
        headers = {"Content-Type": "application/json"} if "content" in kwargs else None
        try:
            response = self._client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self._set_connected(False)
            raise TransportError(
                f"cannot reach the hub at {self._client_args['base_url']}: {exc}",
                hint="check the hub URL, the network and the hub's TLS certificate",
            ) from exc
        if response.status_code in (401, 403):
            raise TransportError(
                f"the hub refused this edge's token ({response.status_code})",
                hint="issue a new edge token on the hub and pass it with --token",
            )
        if response.status_code >= 400:
            self._set_connected(False)
            raise TransportError(f"the hub answered {response.status_code} to {method} {path}")
        self._set_connected(True)
        return response

    @staticmethod
    def _parse(model: type[_Reply], response: httpx.Response) -> _Reply:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise TransportError(f"the hub sent a malformed {model.__name__}: {exc}") from exc

    def _set_connected(self, value: bool) -> None:
        if value != self._connected:
            self._connected = value
            self._handlers.on_connected(value)
