"""The edge decides alone: no hub, no broker. Simulated hardware, real domain and SQLite."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from doorward.domain.mobile_key import current_step, issue_mobile_token
from doorward.domain.model import Outcome
from doorward.domain.passes import issue_pass
from doorward.edge.readers import Feedback, ReaderInput
from doorward.edge.snapshot_cache import ApplyResult
from doorward.transport.messages import Command, SnapshotMessage

from .conftest import CARD, PASS_CODE, PIN, PIN_ID, Gate, Site


def present_card(gate: Gate, number: str = CARD[1]):
    from doorward.domain.model import CardData

    return gate.controller.handle_input(ReaderInput("r1", "card", card=CardData(CARD[0], number)))


def test_known_card_opens_and_event_is_committed_before_feedback(gate: Gate) -> None:
    handled = present_card(gate)
    assert handled.decision.granted
    assert gate.relay.count("pulse") == 1 and gate.relay.is_open
    assert gate.reader.feedback_given == [Feedback.GRANTED]
    assert gate.controller.outbox is not None
    assert gate.controller.outbox.contains(handled.event.event_id)
    assert handled.event.subject == "subj-card" and handled.event.outcome == "granted"


def test_unknown_card_is_denied_and_relay_stays_locked(gate: Gate) -> None:
    handled = present_card(gate, "999")
    assert handled.decision.outcome is Outcome.UNKNOWN_CREDENTIAL
    assert gate.relay.actions == []
    assert gate.reader.feedback_given == [Feedback.DENIED]


def test_pin_entered_on_the_keypad(gate: Gate) -> None:
    gate.reader.type_keys(f"{PIN_ID}*0000#")
    gate.reader.type_keys(f"{PIN_ID}*{PIN}#")
    deadline = time.monotonic() + 5
    while len(gate.reader.feedback_given) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert gate.reader.feedback_given == [Feedback.DENIED, Feedback.GRANTED]
    outcomes = [e["outcome"] for e in gate.events() if e["kind"] == "access"]
    assert outcomes == ["wrong_pin", "granted"]


def test_mobile_key_is_checked_offline_and_replay_refused(gate: Gate, site: Site) -> None:
    token = issue_mobile_token(site.keys, "cred-mobile", current_step(datetime.now(UTC)))
    first = gate.controller.handle_input(ReaderInput("r1", "token", token=token))
    again = gate.controller.handle_input(ReaderInput("r1", "token", token=token))
    assert first.decision.granted
    assert again.decision.outcome is Outcome.REPLAYED_TOKEN


def test_replay_memory_survives_a_restart(site: Site, tmp_path) -> None:
    token = issue_mobile_token(site.keys, "cred-mobile", current_step(datetime.now(UTC)))
    first = Gate(site, tmp_path / "edge")
    first.controller.start()
    first.controller.apply_snapshot(site.full_snapshot())
    assert first.controller.handle_input(ReaderInput("r1", "token", token=token)).decision.granted
    first.controller.stop()
    second = Gate(site, tmp_path / "edge")
    second.controller.start()
    try:
        again = second.controller.handle_input(ReaderInput("r1", "token", token=token))
        assert again.decision.outcome is Outcome.REPLAYED_TOKEN
    finally:
        second.controller.stop()


def test_visitor_pass_qr_and_typed_code_share_the_use_limit(gate: Gate, site: Site) -> None:
    grant = site.visitor_pass().to_domain()
    payload = issue_pass(site.keys, grant)
    assert gate.controller.handle_input(ReaderInput("r1", "token", token=payload)).decision.granted
    typed = gate.controller.handle_input(ReaderInput("r1", "keypad", keys=PASS_CODE))
    assert typed.decision.granted
    third = gate.controller.handle_input(ReaderInput("r1", "token", token=payload))
    assert third.decision.outcome is Outcome.PASS_USED_UP


def test_revocation_delta_takes_effect_at_once(gate: Gate, site: Site) -> None:
    assert present_card(gate).decision.granted
    revoked = [c.model_copy(update={"revoked": True}) for c in site.credentials()[:1]]
    delta = SnapshotMessage(
        site_id=site.site_id,
        version=2,
        base_version=1,
        full=False,
        hub_public_key=site.keys.public_bytes().hex(),
        pass_code_key=site.pass_code_key.hex(),
        credentials=revoked,
    )
    assert gate.controller.apply_snapshot(delta) is ApplyResult.APPLIED
    assert present_card(gate).decision.outcome is Outcome.REVOKED
    assert gate.controller.snapshot_version == 2


def test_delta_over_an_unknown_version_is_refused(gate: Gate, site: Site) -> None:
    delta = SnapshotMessage(
        site_id=site.site_id,
        version=9,
        base_version=7,
        full=False,
        hub_public_key=site.keys.public_bytes().hex(),
        removed_credentials=["cred-card"],
    )
    assert gate.controller.apply_snapshot(delta) is ApplyResult.NEEDS_RESYNC
    assert present_card(gate).decision.granted  # still the old, consistent snapshot


def test_fire_input_holds_the_gate_open_within_a_second(gate: Gate) -> None:
    gate.controller.apply_command(
        Command(command="lockdown", issued_at=datetime.now(UTC), reason="drill")
    )
    started = time.monotonic()
    gate.fire.set(True)
    assert gate.relay.opened.wait(1.0)
    assert time.monotonic() - started < 1.0
    assert gate.relay.is_open
    assert any(e["alarm"] == "fire" for e in gate.events())
    gate.fire.set(False)
    assert not gate.relay.is_open


def test_lockdown_command_denies_ordinary_credentials(gate: Gate) -> None:
    gate.controller.apply_command(Command(command="lockdown", issued_at=datetime.now(UTC)))
    assert present_card(gate).decision.outcome is Outcome.LOCKDOWN
    gate.controller.apply_command(Command(command="release_lockdown", issued_at=datetime.now(UTC)))
    assert present_card(gate).decision.granted


def test_tailgating_alarm_names_the_gate_and_counts_only(gate: Gate) -> None:
    assert present_card(gate).decision.granted
    gate.beam.pass_through(2)
    alarms = [e for e in gate.events() if e["alarm"] == "tailgating"]
    assert len(alarms) == 1
    alarm = alarms[0]
    assert alarm["subject"] is None and alarm["pass_id"] is None
    assert alarm["gate_id"] == "gate-a"
    assert set(alarm["detail"]) == {"passages", "grants", "window_seconds"}


def test_door_forced_and_held_open(gate: Gate) -> None:
    gate.door.set(True)  # nobody was granted: forced
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        if any(e["alarm"] == "held_open" for e in gate.events()):
            break
        time.sleep(0.1)
    kinds = [e["alarm"] for e in gate.events() if e["kind"] == "alarm"]
    assert kinds[:2] == ["door_forced", "held_open"]
    assert gate.relay.actions == []


def test_no_snapshot_means_deny(site: Site, tmp_path) -> None:
    fresh = Gate(site, tmp_path / "empty")
    fresh.controller.start()
    try:
        handled = fresh.controller.handle_input(ReaderInput("r1", "keypad", keys=f"{PIN_ID}*{PIN}"))
        assert not handled.decision.granted
        assert fresh.relay.actions == []
    finally:
        fresh.controller.stop()


def test_dead_reader_raises_reader_offline_alarm(gate: Gate) -> None:
    gate.reader.is_connected = False
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if any(e["alarm"] == "reader_offline" for e in gate.events()):
            break
        time.sleep(0.05)
    offline = [e for e in gate.events() if e["alarm"] == "reader_offline"]
    assert len(offline) == 1 and offline[0]["detail"] == {"reader": "r1"}


def test_stop_then_start_again_keeps_snapshot_outbox_and_single_handlers(gate: Gate) -> None:
    first = present_card(gate)
    gate.controller.stop()
    assert gate.controller.outbox is None and gate.controller.cache is None
    gate.controller.start()
    assert gate.controller.snapshot_version == 1
    assert gate.controller.outbox is not None
    assert gate.controller.outbox.contains(first.event.event_id)
    gate.fire.set(True)
    assert gate.relay.count("hold_open") == 1  # one handler, not one per start
    gate.fire.set(False)
