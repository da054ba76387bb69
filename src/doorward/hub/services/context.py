"""The hub's running state, built once by ``create_app`` and handed to every service."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from doorward.domain.keys import HubKeys
from doorward.settings import Settings
from doorward.store.db import Database

if TYPE_CHECKING:
    from doorward.domain.memory import AccessMemory
    from doorward.domain.model import Snapshot
    from doorward.store.eventlog import EventLog
    from doorward.transport.messages import Command

__all__ = ["HubContext"]


@dataclass
class HubContext:
    """Settings, database, keys, event log and the hub's own decision memory."""

    settings: Settings
    db: Database
    keys: HubKeys
    pseudonym_key: bytes
    pass_code_key: bytes
    eventlog: EventLog
    memory: AccessMemory
    # The domain snapshot is rebuilt only when the site's version moves.
    snapshot_cache: dict[str, Snapshot] = field(default_factory=dict)
    decide_lock: threading.Lock = field(default_factory=threading.Lock)
    # Pushes a command to a gate's edge over MQTT, when the bridge runs (gate id, command).
    edge_push: Callable[[str, Command], None] | None = None

    @property
    def site_id(self) -> str:
        return self.settings.site_id
