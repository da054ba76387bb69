"""Enrolment and withdrawal reach an ONLINE edge by themselves: hub -> Mosquitto -> edge."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from doorward.edge.actuators.simulated import SimulatedRelay
from doorward.edge.controller import EdgeConfig, EdgeController, GateHardware
from doorward.edge.face_check import EdgeFaceCheck, SimulatedCamera
from doorward.edge.readers.simulated import SimulatedReader
from doorward.settings import Settings
from doorward.transport.mqtt import EdgeMqttLink

from .conftest import World

pytestmark = [pytest.mark.face, pytest.mark.mqtt]
MQTT_URL = os.environ.get("DOORWARD_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


@pytest.fixture
def hub_settings(tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path / "data", mqtt_url=MQTT_URL,
                    site_id=f"face-{secrets.token_hex(4)}")


@pytest.fixture
def online_edge(world: World, tmp_path: Path) -> Iterator[EdgeController]:
    site = world.ctx.site_id
    config = EdgeConfig(site_id=site, gate_id="pool", data_dir=tmp_path / "edge",
                        heartbeat_seconds=600.0)  # far away: only the push can be in time
    edge = EdgeController(config, [SimulatedReader("r1")], GateHardware(SimulatedRelay()),
                          link=EdgeMqttLink(MQTT_URL, site, "pool"),
                          face=EdgeFaceCheck(SimulatedCamera()))
    edge.start()
    try:
        yield edge
    finally:
        edge.stop()


def _wait(condition: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return False


def test_withdrawal_is_pushed_to_an_online_edge(
    world: World, secret: bytes, online_edge: EdgeController
) -> None:
    world.consent()
    world.enrol(world.card, secret)  # pushed too: no heartbeat is due for 600 s
    assert _wait(lambda: online_edge.cache and online_edge.cache.face_template(world.card))
    started = time.monotonic()
    response = world.client.delete("/api/v1/face/consent", headers=world.auth("ana"))
    assert response.status_code == 200
    assert _wait(lambda: online_edge.cache and not online_edge.cache.face_template(world.card))
    assert time.monotonic() - started < 10
