"""Real processes for the fault tests: a private Mosquitto on a free port, a ``doorward hub``
subprocess, and a waiting helper. Edge fixtures come from ``tests/edge/conftest.py``."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# pytest imports tests/<dir> packages from tests/ (rootdir conftest, no tests/__init__.py).
from edge.conftest import Site

DOORWARD = [sys.executable, "-c", "from doorward.cli import main; main()"]


def wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _stop(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def site() -> Site:
    return Site()


class PrivateBroker:
    """Our own Mosquitto on 127.0.0.1:PORT (never the system broker), restartable."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            pytest.skip("mosquitto is not installed")
        self.binary = binary
        self.port = free_port()
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        )
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.starts += 1
        if not wait_for(lambda: port_open(self.port), 10):
            raise RuntimeError(f"mosquitto did not listen on {self.port}")

    def kill(self) -> None:
        if self.proc is not None:
            _stop(self.proc, signal.SIGKILL)
            self.proc = None


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[PrivateBroker]:
    broker = PrivateBroker(tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()


class HubProcess:
    """``doorward hub`` as a subprocess, configured by DOORWARD_* variables only."""

    def __init__(self, data_dir: Path, site_id: str, database_url: str, mqtt_url: str) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "DOORWARD_ENVIRONMENT": "test",
            "DOORWARD_DATA_DIR": str(data_dir),
            "DOORWARD_DATABASE_URL": database_url,
            "DOORWARD_SITE_ID": site_id,
            "DOORWARD_MQTT_URL": mqtt_url,
            "DOORWARD_PORT": str(self.port),
            "DOORWARD_LOG_LEVEL": "WARNING",
        }
        self.log = data_dir.parent / "hub.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([*DOORWARD, "hub"], env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT)
        if not wait_for(lambda: port_open(self.port), 60, 0.1):
            self.stop(signal.SIGKILL)
            raise RuntimeError(f"the hub did not listen: {self.log.read_text()[-2000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.proc is None:
            return None
        _stop(self.proc, sig)
        code, self.proc = self.proc.returncode, None
        return code
