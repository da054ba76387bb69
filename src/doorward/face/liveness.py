"""Liveness by challenge–response: a random sequence of blinks and head turns.

The gate asks for, say, "turn left, blink, turn right" (drawn with :mod:`secrets`), films the
person for a few seconds and checks the sequence from per-frame landmarks. A printed photo or a
photo on a phone cannot turn its head (a flat picture tilted in front of the camera keeps the
nose in the same place between the eyes) and cannot blink on demand. It does NOT stop a video
replay that happens to show the right moves, or a 3-D mask; say so wherever this is offered.

Head turns come from 5-point geometry (nose offset along the eye line). The 5-point model has
no eyelid points, so blinks come from an *eye openness* score measured in the image around the
eye-corner landmarks: the contrast of the eye patch (iris and sclera against the lids), which
falls when the lids close. It is judged against the same person's own baseline in the same
session, never against a population norm. It is weak with glasses glare, deep shadow and faces
under ~100 px; such people can be offered a challenge without blinks.

Only numbers (times, landmark coordinates, openness scores) are kept; frames stay in memory.
"""

from __future__ import annotations

import itertools
import secrets
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import numpy as np

from doorward.errors import CaptureRejected, InvalidInput
from doorward.face.capture import grey, pose_of
from doorward.face.embed import Box, FaceEngine, Frame, Landmarks, as_frame

__all__ = [
    "Action",
    "Challenge",
    "ChallengeResponseLiveness",
    "FaceObservation",
    "LivenessCheck",
    "LivenessResult",
    "eye_openness",
    "new_challenge",
    "observe",
]


class Action(StrEnum):
    """One step of a challenge. Left and right are the person's own, for a non-mirrored camera."""

    BLINK = "blink"
    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"


@dataclass(frozen=True, slots=True)
class Challenge:
    """What the gate asked for, when, and how long the person has to do it."""

    steps: tuple[Action, ...]
    issued_at: float
    time_limit_s: float = 6.0


@dataclass(frozen=True, slots=True)
class FaceObservation:
    """What liveness needs from one frame: time, face box, 5 landmarks, eye openness."""

    t: float
    box: Box | None
    landmarks: Landmarks | None
    eye_openness: float | None = None


@dataclass(frozen=True, slots=True)
class LivenessResult:
    passed: bool
    reason: str
    events: tuple[Action, ...] = field(default=())
    completed_in_s: float | None = None


class LivenessCheck(Protocol):
    """The liveness seam: one method. Swap in another method (e.g. depth) behind it."""

    def check(
        self, challenge: Challenge, frames_landmarks: Sequence[FaceObservation]
    ) -> LivenessResult: ...


def new_challenge(now: float, *, steps: int = 3, time_limit_s: float = 6.0) -> Challenge:
    """A random challenge with at least one blink and one head turn, no step twice in a row."""
    if not 2 <= steps <= 6:
        raise InvalidInput(f"a challenge has 2–6 steps, got {steps}")
    actions = list(Action)
    while True:
        drawn: list[Action] = []
        while len(drawn) < steps:
            candidate = secrets.choice(actions)
            if not drawn or candidate != drawn[-1]:
                drawn.append(candidate)
        has_turn = any(a is not Action.BLINK for a in drawn)
        if Action.BLINK in drawn and has_turn:
            return Challenge(steps=tuple(drawn), issued_at=now, time_limit_s=time_limit_s)


def eye_openness(frame: Frame, landmarks: Landmarks) -> float:
    """Contrast of the two eye patches around the 5-point eye corners (higher = more open).

    Each patch is 1.5 eye-widths wide and 0.8 tall, centred on the eye; the score is the mean
    over both eyes of the patch's standard deviation over its mean brightness.
    """
    image = as_frame(frame)
    g = grey(image)
    h, w = g.shape
    scores = []
    pts = np.asarray(landmarks, dtype=np.float64)
    for outer, inner in ((pts[0], pts[1]), (pts[2], pts[3])):
        centre = (outer + inner) / 2.0
        width = float(np.hypot(*(outer - inner)))
        if width < 4:
            continue
        x0, x1 = int(centre[0] - 0.75 * width), int(centre[0] + 0.75 * width)
        y0, y1 = int(centre[1] - 0.4 * width), int(centre[1] + 0.4 * width)
        patch = g[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)]
        if patch.size < 16:
            continue
        scores.append(float(patch.std()) / (float(patch.mean()) + 1.0))
    return float(np.mean(scores)) if scores else 0.0


def observe(
    engine: FaceEngine, frame: Frame, t: float, previous: FaceObservation | None = None
) -> FaceObservation:
    """Landmarks and eye openness of the one face, tracked cheaply from the previous frame."""
    located = None
    if previous is not None and previous.box is not None:
        located = engine.locate_near(frame, previous.box)
    if located is None:
        faces = engine.locate(frame)
        if len(faces) > 1:
            raise CaptureRejected(
                f"{len(faces)} faces in the frame during the challenge",
                hint="only the person at the reader should be in front of the camera",
            )
        located = faces[0] if faces else None
    if located is None:
        return FaceObservation(t=t, box=None, landmarks=None)
    return FaceObservation(
        t=t,
        box=located.box,
        landmarks=located.landmarks,
        eye_openness=eye_openness(frame, located.landmarks),
    )


@dataclass(frozen=True, slots=True)
class ChallengeResponseLiveness:
    """Checks a challenge from landmarks over time. Thresholds are in eye-distance units.

    A turn is a yaw beyond ``turn_yaw`` after being near-frontal (``|yaw| < centre_yaw``). A blink
    is openness falling under ``blink_drop`` × the person's frontal median, then recovering to
    ``reopen`` × median, while frontal. Spontaneous extra blinks are tolerated; an extra or
    wrong head turn fails the challenge.
    """

    turn_yaw: float = 0.22
    centre_yaw: float = 0.1
    blink_drop: float = 0.65
    reopen: float = 0.85
    max_missing_fraction: float = 0.3
    min_frames: int = 6

    def events(self, observations: Sequence[FaceObservation]) -> list[tuple[Action, float]]:
        """The moves seen, in order, with the time each one happened."""
        seen = [o for o in observations if o.landmarks is not None]
        frontal_openness = [
            o.eye_openness
            for o in seen
            if o.eye_openness is not None
            and o.landmarks is not None
            and abs(pose_of(o.landmarks).yaw) < self.centre_yaw
        ]
        baseline = statistics.median(frontal_openness) if frontal_openness else 0.0
        found: list[tuple[Action, float]] = []
        state = "centre"
        eyes_closed = False
        for o in seen:
            assert o.landmarks is not None
            yaw = pose_of(o.landmarks).yaw
            if yaw > self.turn_yaw and state == "centre":
                state = "left"
                found.append((Action.TURN_LEFT, o.t))
            elif yaw < -self.turn_yaw and state == "centre":
                state = "right"
                found.append((Action.TURN_RIGHT, o.t))
            elif abs(yaw) < self.centre_yaw:
                state = "centre"
            if state != "centre" or o.eye_openness is None or baseline <= 0.0:
                continue
            if not eyes_closed and o.eye_openness < self.blink_drop * baseline:
                eyes_closed = True
            elif eyes_closed and o.eye_openness >= self.reopen * baseline:
                eyes_closed = False
                found.append((Action.BLINK, o.t))
        return found

    def check(
        self, challenge: Challenge, frames_landmarks: Sequence[FaceObservation]
    ) -> LivenessResult:
        frames = list(frames_landmarks)
        if len(frames) < self.min_frames:
            return LivenessResult(False, f"too few frames ({len(frames)}, need {self.min_frames})")
        times = [f.t for f in frames]
        if any(b <= a for a, b in itertools.pairwise(times)):
            return LivenessResult(False, "frame times are not increasing")
        if times[0] < challenge.issued_at:
            return LivenessResult(False, "frames predate the challenge (replayed capture?)")
        missing = sum(1 for f in frames if f.landmarks is None)
        if missing > self.max_missing_fraction * len(frames):
            return LivenessResult(False, f"face lost in {missing} of {len(frames)} frames")
        first = next(f for f in frames if f.landmarks is not None)
        assert first.landmarks is not None
        if abs(pose_of(first.landmarks).yaw) >= self.centre_yaw:
            return LivenessResult(False, "the challenge must start facing the camera")
        deadline = challenge.issued_at + challenge.time_limit_s
        events = self.events(frames)
        names = tuple(action for action, _ in events)
        if not events:
            return LivenessResult(False, "no head turn or blink seen (a still photo?)", names)
        step = 0
        completed_at = 0.0
        for action, at in events:
            if step == len(challenge.steps):
                if action is Action.BLINK:
                    continue
                return LivenessResult(False, f"an extra move ({action}) after the challenge", names)
            expected = challenge.steps[step]
            if action is expected:
                if at > deadline:
                    return LivenessResult(
                        False,
                        f"too slow: step {step + 1} ({expected}) came "
                        f"{at - challenge.issued_at:.1f}s after the challenge "
                        f"(limit {challenge.time_limit_s:.1f}s)",
                        names,
                    )
                step += 1
                completed_at = at
            elif action is not Action.BLINK:
                wrong = f"wrong move at step {step + 1}: expected {expected}, saw {action}"
                return LivenessResult(False, wrong, names)
        if step < len(challenge.steps):
            return LivenessResult(
                False,
                f"challenge incomplete: {step} of {len(challenge.steps)} steps done, "
                f"next was {challenge.steps[step]}",
                names,
            )
        return LivenessResult(
            True, "challenge completed", names, completed_in_s=completed_at - challenge.issued_at
        )
