"""The access decision: one presentation at one gate, judged offline against a snapshot.

:func:`decide` is pure: it reads the request, the snapshot, the time and the memory, and
returns a :class:`~doorward.domain.model.Decision`. The caller applies the effects with
``memory.remember(request, decision, now)``.
"""

from __future__ import annotations

from datetime import datetime

from doorward.domain.antipassback import check_antipassback
from doorward.domain.memory import AccessMemory
from doorward.domain.mobile_key import current_step, parse_mobile_token
from doorward.domain.model import (
    AccessRequest,
    AntiPassbackMode,
    Credential,
    CredentialKind,
    Decision,
    Gate,
    Outcome,
    PassGrant,
    PassKind,
    Snapshot,
)
from doorward.domain.passes import parse_pass, pass_code_digest
from doorward.domain.pin import verify_pin
from doorward.domain.schedule import is_open
from doorward.errors import InvalidInput

__all__ = ["decide"]

_ACCEPTED = {
    CredentialKind.CARD: "card accepted",
    CredentialKind.PIN: "PIN accepted",
    CredentialKind.MOBILE: "mobile key accepted",
    CredentialKind.VISITOR_PASS: "visitor pass accepted",
    CredentialKind.DELIVERY_PASS: "delivery pass accepted",
}
_PASS_KINDS = {
    PassKind.VISITOR: CredentialKind.VISITOR_PASS,
    PassKind.DELIVERY: CredentialKind.DELIVERY_PASS,
}
_LOCKDOWN = "the site is in lockdown: only responder credentials open gates"
_RESPONDER = "responder credential accepted during lockdown"
_LOCKED_OUT = "this keypad is locked after too many wrong entries; try again in a few minutes"


def decide(
    request: AccessRequest, snapshot: Snapshot, now: datetime, memory: AccessMemory
) -> Decision:
    """Grant or deny ``request`` at ``now``. Never raises for anything a reader can send;
    raises InvalidInput only for a naive ``now`` (a programming error).

    Order of checks; the first that fails decides the outcome:

    1. the gate is in the snapshot (WRONG_GATE);
    2. keypad lockout at this reader, for PINs and typed pass codes (PIN_LOCKED_OUT);
    3. parse and look up: card number, PIN id, mobile token signature and time step, pass QR
       signature or typed code digest (UNKNOWN_CREDENTIAL, INVALID_TOKEN);
    4. proof of possession: the PIN (WRONG_PIN), a mobile step not newer than the last
       accepted one (REPLAYED_TOKEN). Proving possession first means a guesser learns
       nothing about a credential's status, and every wrong PIN counts towards lockout;
    5. revoked (REVOKED), validity window (NOT_YET_VALID, EXPIRED);
    6. the credential's or pass's gates and site (WRONG_GATE);
    7. the credential's schedule (OUTSIDE_SCHEDULE); passes are bounded by their window only;
    8. lockdown: only responder credentials pass (LOCKDOWN);
    9. pass use limit (PASS_USED_UP);
    10. anti-passback (ANTI_PASSBACK; soft mode grants with ``alarm="anti_passback"``);
    11. GRANTED, with ``needs_face`` when the gate requires a face or the credential has
        face as a second factor (the edge then runs the 1:1 check).
    """
    if now.tzinfo is None:
        raise InvalidInput("decide() needs a timezone-aware time", hint="pass datetime.now(UTC)")
    gate = snapshot.gates.get(request.gate_id)
    if gate is None:
        return _deny(
            request,
            Outcome.WRONG_GATE,
            f"gate {request.gate_id!r} is not in snapshot version {snapshot.version}; "
            "push a fresh snapshot to this edge",
        )
    kind = request.kind
    if kind is CredentialKind.CARD:
        return _decide_card(request, gate, snapshot, now, memory)
    if kind is CredentialKind.MOBILE:
        return _decide_mobile(request, gate, snapshot, now, memory)
    if kind is CredentialKind.PIN:
        return _decide_pin(request, gate, snapshot, now, memory)
    return _decide_pass(request, gate, snapshot, now, memory)


def _decide_card(
    request: AccessRequest, gate: Gate, snapshot: Snapshot, now: datetime, memory: AccessMemory
) -> Decision:
    card = request.card
    if card is None:
        return _deny(request, Outcome.UNKNOWN_CREDENTIAL, "the card read carried no card data")
    credential_id = snapshot.cards.get((card.format, card.number))
    if credential_id is None:
        return _deny(request, Outcome.UNKNOWN_CREDENTIAL, "this card is not enrolled here")
    cred = snapshot.credentials[credential_id]
    return _judge_credential(request, gate, cred, snapshot, now, memory)


def _decide_pin(
    request: AccessRequest, gate: Gate, snapshot: Snapshot, now: datetime, memory: AccessMemory
) -> Decision:
    if memory.keypad_locked(request.reader_id, now):
        return _deny(request, Outcome.PIN_LOCKED_OUT, _LOCKED_OUT)
    credential_id = snapshot.pins.get(request.pin_id)
    if credential_id is None:
        return _deny(request, Outcome.UNKNOWN_CREDENTIAL, "no PIN is enrolled under this code")
    cred = snapshot.credentials[credential_id]
    try:
        matches = verify_pin(cred.pin_hash, request.pin)
    except InvalidInput as exc:
        return _deny(request, Outcome.WRONG_PIN, exc.message, cred=cred)
    if not matches:
        return _deny(request, Outcome.WRONG_PIN, "wrong PIN", cred=cred)
    return _judge_credential(request, gate, cred, snapshot, now, memory)


def _decide_mobile(
    request: AccessRequest, gate: Gate, snapshot: Snapshot, now: datetime, memory: AccessMemory
) -> Decision:
    try:
        credential_id, step = parse_mobile_token(request.token, snapshot.hub_public_key)
    except InvalidInput as exc:
        return _deny(request, Outcome.INVALID_TOKEN, exc.message)
    policy = memory.policy
    edge_step = current_step(now, policy.token_step_seconds)
    if abs(step - edge_step) > policy.token_skew_steps:
        return _deny(
            request,
            Outcome.INVALID_TOKEN,
            f"the mobile key is for time step {step}, this gate is at step {edge_step}; "
            "check the phone's clock and refresh the app",
            token_step=step,
        )
    cred = snapshot.credentials.get(credential_id)
    if cred is None or cred.kind is not CredentialKind.MOBILE:
        return _deny(request, Outcome.UNKNOWN_CREDENTIAL, "this mobile key is not enrolled here")
    last = memory.last_mobile_step(credential_id)
    if last is not None and step <= last:
        return _deny(
            request,
            Outcome.REPLAYED_TOKEN,
            "this mobile key was already used; present the next one",
            cred=cred,
            token_step=step,
        )
    return _judge_credential(request, gate, cred, snapshot, now, memory, token_step=step)


def _judge_credential(
    request: AccessRequest,
    gate: Gate,
    cred: Credential,
    snapshot: Snapshot,
    now: datetime,
    memory: AccessMemory,
    token_step: int | None = None,
) -> Decision:
    if cred.revoked:
        return _deny(request, Outcome.REVOKED, "this credential was revoked", cred, token_step)
    if cred.valid_from is not None and now < cred.valid_from:
        return _deny(
            request, Outcome.NOT_YET_VALID, "this credential is not valid yet", cred, token_step
        )
    if cred.valid_until is not None and now >= cred.valid_until:
        return _deny(request, Outcome.EXPIRED, "this credential has expired", cred, token_step)
    if cred.gates and gate.id not in cred.gates:
        return _deny(
            request, Outcome.WRONG_GATE, "this credential does not open this gate", cred, token_step
        )
    if cred.schedule_id is not None:
        schedule = snapshot.schedules.get(cred.schedule_id)
        if schedule is None or not is_open(schedule, now):
            return _deny(
                request,
                Outcome.OUTSIDE_SCHEDULE,
                "this credential's schedule does not allow access now",
                cred,
                token_step,
            )
    reason = _ACCEPTED[request.kind]
    if snapshot.lockdown:
        if not cred.responder:
            return _deny(request, Outcome.LOCKDOWN, _LOCKDOWN, cred, token_step)
        reason = _RESPONDER
    alarm = None
    if gate.antipassback is not AntiPassbackMode.OFF:
        verdict = check_antipassback(gate, memory.last_passage(cred.subject), now)
        if verdict is not None:
            if verdict.deny:
                return _deny(request, Outcome.ANTI_PASSBACK, verdict.reason, cred, token_step)
            alarm, reason = verdict.alarm, verdict.reason
    return Decision(
        granted=True,
        outcome=Outcome.GRANTED,
        reason=reason,
        gate_id=gate.id,
        credential_kind=request.kind,
        credential_id=cred.id,
        subject=cred.subject,
        alarm=alarm,
        needs_face=gate.requires_face or cred.face_second_factor,
        token_step=token_step,
        antipassback_direction=(
            None if gate.antipassback is AntiPassbackMode.OFF else gate.direction
        ),
    )


def _decide_pass(
    request: AccessRequest, gate: Gate, snapshot: Snapshot, now: datetime, memory: AccessMemory
) -> Decision:
    grant: PassGrant | None
    if request.token:
        try:
            signed = parse_pass(request.token, snapshot.hub_public_key)
        except InvalidInput as exc:
            return _deny(request, Outcome.INVALID_TOKEN, exc.message)
        # The snapshot's copy, when there is one, is the hub's latest word (e.g. revoked).
        grant = snapshot.passes.get(signed.id, signed)
    elif request.pass_code:
        if memory.keypad_locked(request.reader_id, now):
            return _deny(request, Outcome.PIN_LOCKED_OUT, _LOCKED_OUT)
        grant = _lookup_pass_code(request.pass_code, snapshot)
        if grant is None:
            return _deny(request, Outcome.UNKNOWN_CREDENTIAL, "this pass code is not valid here")
    else:
        return _deny(request, Outcome.UNKNOWN_CREDENTIAL, "no pass QR code or pass code was given")
    return _judge_pass(request, gate, grant, snapshot, now, memory)


def _lookup_pass_code(code: str, snapshot: Snapshot) -> PassGrant | None:
    if not snapshot.pass_code_key:
        return None
    try:
        digest = pass_code_digest(code, snapshot.pass_code_key)
    except InvalidInput:
        return None
    pass_id = snapshot.pass_codes.get(digest)
    return None if pass_id is None else snapshot.passes.get(pass_id)


def _judge_pass(
    request: AccessRequest,
    gate: Gate,
    grant: PassGrant,
    snapshot: Snapshot,
    now: datetime,
    memory: AccessMemory,
) -> Decision:
    # The grant, not the reader, knows whether this is a visitor or a delivery pass.
    kind = _PASS_KINDS[grant.kind]

    def deny(outcome: Outcome, reason: str) -> Decision:
        return _deny(request, outcome, reason, pass_id=grant.id, kind=kind)

    if grant.revoked:
        return deny(Outcome.REVOKED, "this pass was cancelled by its host or the management")
    if now < grant.valid_from:
        return deny(Outcome.NOT_YET_VALID, "this pass is not valid yet")
    if now >= grant.valid_until:
        return deny(Outcome.EXPIRED, "this pass has expired")
    if (grant.gates and gate.id not in grant.gates) or (
        grant.site_id and grant.site_id != gate.site_id
    ):
        return deny(Outcome.WRONG_GATE, "this pass does not open this gate")
    if snapshot.lockdown:
        return deny(Outcome.LOCKDOWN, _LOCKDOWN)
    if memory.uses_of(grant.id) >= grant.max_uses:
        return deny(Outcome.PASS_USED_UP, f"this pass was already used {grant.max_uses} time(s)")
    reason, alarm = _ACCEPTED[kind], None
    if gate.antipassback is not AntiPassbackMode.OFF:
        verdict = check_antipassback(gate, memory.last_passage(f"pass:{grant.id}"), now)
        if verdict is not None:
            if verdict.deny:
                return deny(Outcome.ANTI_PASSBACK, verdict.reason)
            alarm, reason = verdict.alarm, verdict.reason
    return Decision(
        granted=True,
        outcome=Outcome.GRANTED,
        reason=reason,
        gate_id=gate.id,
        credential_kind=kind,
        pass_id=grant.id,
        alarm=alarm,
        # Visitors enrol no face: at a face-only gate the edge's 1:1 check fails closed.
        needs_face=gate.requires_face,
        antipassback_direction=(
            None if gate.antipassback is AntiPassbackMode.OFF else gate.direction
        ),
        pass_valid_until=grant.valid_until,
    )


def _deny(
    request: AccessRequest,
    outcome: Outcome,
    reason: str,
    cred: Credential | None = None,
    token_step: int | None = None,
    pass_id: str | None = None,
    kind: CredentialKind | None = None,
) -> Decision:
    return Decision(
        granted=False,
        outcome=outcome,
        reason=reason,
        gate_id=request.gate_id,
        credential_kind=request.kind if kind is None else kind,
        credential_id=None if cred is None else cred.id,
        subject=None if cred is None else cred.subject,
        pass_id=pass_id,
        token_step=token_step,
    )
