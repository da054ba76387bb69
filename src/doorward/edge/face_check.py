"""The edge's face step: after a credential was accepted, a 1:1 check against its own template.

Runs only when ``decide()`` granted a credential and said ``needs_face`` (the resident chose
face for that credential, or the gate requires face). Then, and only then, the camera films a
short challenge clip; frames stay in memory and are dropped when the check ends. The sealed
template comes from this gate's snapshot and opens only with the unlock secret that the phone
or card presented with the credential. Liveness (challenge–response) runs first, then
``verify_sealed`` against the packaged, calibrated threshold (k of n frames).

Fallback (the credential itself stays usable): a failed face step denies this attempt only. It
never revokes, locks or counts against the credential. For ``fallback_seconds`` afterwards the
same resident's **PIN**, typed at this gate, completes the entry instead of the face: two
non-biometric factors. Without a PIN, a guard opens the gate (the hub's ``manual_open``).
A face failure never grants on its own, and a gate with no camera configured refuses every
decision that needs a face. Visitors enrol no face: at a face gate they need a guard.

The camera is a one-method seam (:class:`Camera`); :class:`SimulatedCamera` is its fake.
Heavy modules (numpy, dlib) load on first use, so an edge without face gates stays lean.
"""

from __future__ import annotations

import base64
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from doorward.domain import model as m
from doorward.errors import DoorwardError
from doorward.transport.messages import FaceTemplateWire

if TYPE_CHECKING:
    from doorward.edge.readers import ReaderInput
    from doorward.edge.snapshot_cache import SnapshotCache
    from doorward.face import Challenge, FaceEngine, LivenessCheck
    from doorward.face.embed import Frame

__all__ = [
    "Camera",
    "EdgeFaceCheck",
    "SimulatedCamera",
    "apply_face_step",
]

FALLBACK_HINT = "type your PIN to enter instead, or call a guard"


class Camera(Protocol):
    """The gate camera. ``film`` yields (RGB frame, monotonic time) while the person answers
    ``challenge``; it is called only after a credential was accepted."""

    def film(self, challenge: Challenge) -> Iterable[tuple[Frame, float]]: ...


class SimulatedCamera:
    """A fake camera for the demo and tests: plays clips queued with ``load``.

    ``reads`` counts how often the gate filmed, so tests can prove that nothing is captured
    unless a credential was presented first.
    """

    def __init__(self, frame_interval_s: float = 0.1) -> None:
        self.frame_interval_s = frame_interval_s
        self.reads = 0
        self._clips: deque[list[Frame]] = deque()

    def load(self, frames: Sequence[Frame]) -> None:
        """Queue what the camera will see the next time the gate films."""
        self._clips.append(list(frames))

    def film(self, challenge: Challenge) -> Iterator[tuple[Frame, float]]:
        self.reads += 1
        clip = self._clips.popleft() if self._clips else []
        for index, frame in enumerate(clip):
            yield frame, challenge.issued_at + self.frame_interval_s * (index + 1)


@dataclass(frozen=True, slots=True)
class _FailedFace:
    credential_id: str
    until: float


class EdgeFaceCheck:
    """Liveness + 1:1 verification at one gate, with the PIN fallback after a failure."""

    def __init__(
        self,
        camera: Camera,
        *,
        engine: FaceEngine | None = None,
        liveness: LivenessCheck | None = None,
        threshold: float | None = None,
        fallback_seconds: float = 60.0,
        verification_frames: int = 3,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.camera = camera
        self._engine = engine
        self._liveness = liveness
        self._threshold = threshold
        self.fallback_seconds = fallback_seconds
        self.verification_frames = verification_frames
        self._monotonic = monotonic
        self._failed: dict[str, _FailedFace] = {}  # subject -> last failed face step

    @property
    def engine(self) -> FaceEngine:
        if self._engine is None:
            from doorward.face import FaceEngine

            self._engine = FaceEngine()
        return self._engine

    @property
    def threshold(self) -> float:
        if self._threshold is None:
            from doorward.face import default_threshold

            self._threshold = default_threshold()
        return self._threshold

    def apply(
        self, decision: m.Decision, presented: ReaderInput, template: FaceTemplateWire | None
    ) -> m.Decision:
        """The decision after the face step (unchanged when no face is needed)."""
        if not (decision.granted and decision.needs_face):
            return decision
        subject, credential_id = decision.subject, decision.credential_id
        if decision.pass_id is not None or subject is None or credential_id is None:
            return _refuse(decision, "this gate requires a face check and passes carry no face",
                           "call a guard or your host")
        now = self._monotonic()
        failed = self._failed.get(subject)
        if decision.credential_kind is m.CredentialKind.PIN:
            if failed is not None and failed.until >= now and failed.credential_id != credential_id:
                del self._failed[subject]
                return replace(decision, reason="PIN accepted as the second factor after a "
                                                "failed face check")
            return self._fail(decision, now, "a PIN alone cannot open a face gate",
                              "present your card or phone first")
        if template is None:
            return self._fail(decision, now, "no face template for this credential at this gate")
        if not presented.face_secret:
            return self._fail(decision, now, "the credential did not present its face secret")
        reason = self._verify(subject, credential_id, template, presented.face_secret)
        if reason is not None:
            return self._fail(decision, now, reason)
        self._failed.pop(subject, None)
        return replace(decision, reason=f"{decision.reason}; face verified (1:1)")

    def _fail(
        self, decision: m.Decision, now: float, reason: str, hint: str = FALLBACK_HINT
    ) -> m.Decision:
        assert decision.subject is not None and decision.credential_id is not None
        self._failed[decision.subject] = _FailedFace(
            decision.credential_id, now + self.fallback_seconds
        )
        return _refuse(decision, reason, hint)

    def _verify(
        self, subject: str, credential_id: str, template: FaceTemplateWire, secret: bytes
    ) -> str | None:
        """None when live and matched; otherwise why not."""
        from doorward.errors import CaptureRejected
        from doorward.face import (
            ChallengeResponseLiveness,
            SealedTemplate,
            new_challenge,
            verify_sealed,
        )
        from doorward.face.gate import pick_verification_frames
        from doorward.face.liveness import FaceObservation, observe

        challenge = new_challenge(now=self._monotonic())
        frames: list[Frame] = []
        observations: list[FaceObservation] = []
        try:
            for frame, t in self.camera.film(challenge):
                previous = observations[-1] if observations else None
                try:
                    observation = observe(self.engine, frame, t, previous)
                except CaptureRejected as exc:
                    return f"liveness failed: {exc.message}"
                frames.append(frame)
                observations.append(observation)
            liveness = self._liveness or ChallengeResponseLiveness()
            live = liveness.check(challenge, observations)
            if not live.passed:
                return f"liveness failed: {live.reason}"
            chosen = pick_verification_frames(observations, self.verification_frames)
            sealed = SealedTemplate(
                base64.b64decode(template.ciphertext), base64.b64decode(template.hkdf_salt),
                base64.b64decode(template.nonce),
            )
            result = verify_sealed(
                self.engine, sealed, secret, [frames[i] for i in chosen],
                subject=subject, credential_id=credential_id, threshold=self.threshold,
            )
        except DoorwardError as exc:  # e.g. a secret that does not open the template
            return f"face check failed: {exc.message}"
        finally:
            frames.clear()  # frames live only for the check
        return None if result.matched else f"face did not match: {result.reason}"


def _refuse(decision: m.Decision, reason: str, hint: str) -> m.Decision:
    return replace(
        decision, granted=False, outcome=m.Outcome.FACE_NOT_VERIFIED,
        reason=f"{reason}; {hint}", antipassback_direction=None,
    )


def apply_face_step(
    check: EdgeFaceCheck | None,
    cache: SnapshotCache | None,
    decision: m.Decision,
    presented: ReaderInput,
) -> m.Decision:
    """The controller's hook: run the face step when the decision needs one.

    Fails closed: a gate without a face check configured refuses decisions that need a face.
    """
    if not (decision.granted and decision.needs_face):
        return decision
    if check is None:
        return _refuse(decision, "this gate requires a face check but has no camera",
                       "call a guard")
    template = None
    if cache is not None and decision.credential_id is not None:
        template = cache.face_template(decision.credential_id)
    return check.apply(decision, presented, template)
