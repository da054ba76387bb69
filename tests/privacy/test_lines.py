"""Guards for the lines we never cross that no other test owns: no channel to third parties,
no image or open template in a backup, no retention past the cap without a legal hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from doorward.errors import ConfigError
from doorward.privacy.backup import BackupKey, make_backup, read_backup
from doorward.settings import Settings

from .conftest import World

SRC = Path(__file__).resolve().parents[2] / "src" / "doorward"
_NETWORK = re.compile(
    r"^\s*(?:import|from)\s+(httpx|requests|aiohttp|urllib\.request|http\.client|smtplib|"
    r"websockets?|paho|socket|osdp|grpc|boto3|kafka)\b", re.M)
#: Every module that opens a network or device connection, and why that is not a third party.
ALLOWED = {
    "transport/http.py": "edge -> its own hub",
    "transport/mqtt.py": "edge <-> hub through the site's own broker",
    "hub/ingest_worker.py": "hub <- the site's own broker",
    "sim/fleet.py": "simulated edges -> the site's own broker (demo and load tests)",
    "edge/readers/osdp.py": "the gate's own reader on a serial line or local socket",
}


def test_no_module_can_send_data_to_a_third_party() -> None:
    users = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if _NETWORK.search(path.read_text(encoding="utf-8"))
    }
    unknown = sorted(users - set(ALLOWED))
    assert unknown == [], (
        f"{unknown} open network connections: person-level data must never reach a third "
        "party. If the peer is the site's own hub, broker or reader, add it to ALLOWED with "
        "the reason; integrations may receive device and alarm events only.")


def test_the_network_scan_can_fail(tmp_path: Path) -> None:
    sample = "import json\nimport httpx\n"
    assert _NETWORK.search(sample) and not _NETWORK.search("import json\n")


def test_a_backup_holds_no_image_and_no_open_template(world: World) -> None:
    ctx = world.ctx
    key = BackupKey.from_passphrase("correct horse battery staple",
                                    {"time_cost": 1, "memory_cost": 1024, "parallelism": 1})
    payload = read_backup(make_backup(ctx.db, ctx.settings, key), ctx.settings, key)
    columns = {f"{table}.{column}" for table, data in payload["tables"].items()
               for column in data["columns"]}
    for word in ("image", "photo", "picture", "frame", "jpeg", "png", "embedding"):
        assert not [c for c in columns if word in c], word
    # Face templates travel only as the sealed ciphertext the resident's secret opens.
    assert {c for c in columns if c.startswith("face_template.")} == {
        "face_template.id", "face_template.subject", "face_template.credential_id",
        "face_template.ciphertext", "face_template.salt", "face_template.nonce",
        "face_template.created_at", "face_template.last_used_at"}


@pytest.mark.parametrize("days", ["91", "365"])
def test_settings_refuse_retention_past_the_hard_cap(days: str) -> None:
    with pytest.raises(ConfigError, match="access_event_retention_days"):
        Settings.from_env({"DOORWARD_ACCESS_EVENT_RETENTION_DAYS": days})
