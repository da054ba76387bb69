"""Fixtures for the event log tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from doorward.store.db import Database
from doorward.store.eventlog import EventLog

from .factories import CHAIN_KEY, START, ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START + timedelta(days=1))


@pytest.fixture
def log(db: Database, clock: ManualClock) -> EventLog:
    return EventLog(db, CHAIN_KEY, clock=clock)
