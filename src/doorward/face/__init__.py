"""Opt-in face verification: a 1:1 second factor after a credential, never identification.

The edge calls this only when an access decision has ``needs_face`` (the credential has
``face_second_factor`` and the gate ``requires_face``). The API, in full::

    from doorward.face import FaceService, GateFaceCheck, new_challenge, new_unlock_secret

    service = FaceService(db)                      # threshold: packaged calibration.json
    service.record_consent(subject, policy_version="2026-01")
    secret = new_unlock_secret()                   # 32 bytes, handed to the phone / card
    service.enrol(subject, credential_id, frames, secret)          # 3–5 RGB numpy frames

    challenge = new_challenge(now=time.monotonic())   # show challenge.steps to the person
    decision = GateFaceCheck(service).decide(
        subject, credential_id, clip_frames, clip_times, secret, challenge
    )                                              # -> GateFaceDecision(granted, reason, ...)
    # or, as the camera films:  clip = gate.start(challenge); clip.add(frame, t) ...;
    #                           decision = clip.finish(subject, credential_id, secret)

    service.withdraw_consent(subject)              # deletes every template of the subject

    # An edge holding the sealed template in its snapshot (no database):
    verify_sealed(engine, sealed, secret, frames, subject=..., credential_id=..., threshold=...)

There is no 1:N search and no way to list templates: ``verify`` opens exactly one template with
the secret the resident presents. Frames are numpy arrays in memory; nothing writes an image.
Errors are :class:`doorward.errors.FaceError` (and its :class:`CaptureRejected`), InvalidInput
and StoreError. Heavy modules (dlib) load on first use.
"""

from __future__ import annotations

from doorward.face.calibrate import default_threshold
from doorward.face.capture import CapturePolicy, check_capture
from doorward.face.consensus import FaceResult
from doorward.face.embed import FaceEngine, distance
from doorward.face.gate import FaceClip, GateFaceCheck, GateFaceDecision
from doorward.face.liveness import (
    Action,
    Challenge,
    ChallengeResponseLiveness,
    FaceObservation,
    LivenessCheck,
    LivenessResult,
    new_challenge,
)
from doorward.face.service import ConsentRecord, FaceService, verify_sealed
from doorward.face.template import SealedTemplate, new_unlock_secret

__all__ = [
    "Action",
    "CapturePolicy",
    "Challenge",
    "ChallengeResponseLiveness",
    "ConsentRecord",
    "FaceClip",
    "FaceEngine",
    "FaceObservation",
    "FaceResult",
    "FaceService",
    "GateFaceCheck",
    "GateFaceDecision",
    "LivenessCheck",
    "LivenessResult",
    "SealedTemplate",
    "check_capture",
    "default_threshold",
    "distance",
    "new_challenge",
    "new_unlock_secret",
    "verify_sealed",
]
