"""The edge's side of a transport: one small interface that MQTT and HTTPS both implement.

The uplink (``doorward.edge.uplink``) only talks to an :class:`EdgeLink`. Acknowledgements,
snapshots and commands come back through :class:`LinkHandlers`, whether they arrive
asynchronously (MQTT) or as the answer to a request (HTTPS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from doorward.transport.messages import Command, EventBatch, Heartbeat, IngestAck, SnapshotMessage

__all__ = ["EdgeLink", "LinkHandlers"]


def _ignore(_: object) -> None:
    """Default handler: drop the message."""


@dataclass(slots=True)
class LinkHandlers:
    on_ack: Callable[[IngestAck], None] = _ignore
    on_snapshot: Callable[[SnapshotMessage], None] = _ignore
    on_command: Callable[[Command], None] = _ignore
    on_connected: Callable[[bool], None] = _ignore


@runtime_checkable
class EdgeLink(Protocol):
    """How an edge reaches its hub. Every method raises TransportError when the link is down."""

    #: True when the hub's snapshots must be fetched (HTTPS) rather than pushed (MQTT).
    polls_snapshots: bool

    def start(self, handlers: LinkHandlers) -> None: ...

    def stop(self) -> None: ...

    @property
    def connected(self) -> bool: ...

    def send_events(self, batch: EventBatch) -> None:
        """Send a batch; its :class:`IngestAck` comes back through ``handlers.on_ack``."""
        ...

    def send_heartbeat(self, heartbeat: Heartbeat) -> None: ...

    def request_snapshot(self, since_version: int) -> None:
        """Ask for the snapshot after ``since_version`` (0: a full one)."""
        ...

    def poll_commands(self) -> None:
        """Fetch waiting commands into ``handlers.on_command`` and acknowledge them (HTTPS);
        a pushing transport (MQTT) does nothing here."""
        ...
