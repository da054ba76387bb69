"""Liveness: synthetic landmark sequences that pass and fail, and the image measures behind them."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np
import pytest
from PIL import Image

from doorward.face.capture import pose_of
from doorward.face.embed import FaceEngine, Frame
from doorward.face.liveness import (
    Action,
    Challenge,
    ChallengeResponseLiveness,
    FaceObservation,
    eye_openness,
    new_challenge,
    observe,
)

pytestmark = pytest.mark.face

L, R, B = Action.TURN_LEFT, Action.TURN_RIGHT, Action.BLINK
OPEN = 0.30
CHECK = ChallengeResponseLiveness()


def _landmarks(yaw: float) -> np.ndarray:
    """Frontal 5-point geometry (eyes 100 px apart) with the nose moved by ``yaw``."""
    return np.array(
        [[220, 100], [180, 100], [80, 100], [120, 100], [150 + 100 * yaw, 172]], dtype=np.float64
    )


def _clip(moves: Sequence[Action], *, start: float = 0.2, dt: float = 0.1) -> list[FaceObservation]:
    """A 10 fps clip: frontal rest, then each move, with rests between."""
    samples: list[tuple[float, float]] = [(0.0, OPEN)] * 4
    for move in moves:
        if move is B:
            samples += [(0.0, OPEN), (0.0, 0.12), (0.0, 0.10), (0.0, OPEN)]
        else:
            sign = 1.0 if move is L else -1.0
            samples += [(sign * y, OPEN) for y in (0.1, 0.25, 0.35, 0.3, 0.15)]
        samples += [(0.0, OPEN)] * 3
    return [
        FaceObservation(t=start + i * dt, box=None, landmarks=_landmarks(y), eye_openness=o)
        for i, (y, o) in enumerate(samples)
    ]


def _challenge(*steps: Action, limit: float = 6.0) -> Challenge:
    return Challenge(steps=tuple(steps), issued_at=0.0, time_limit_s=limit)


def test_the_asked_sequence_passes() -> None:
    result = CHECK.check(_challenge(L, B, R), _clip([L, B, R]))
    assert result.passed, result.reason
    assert result.events == (L, B, R)
    assert result.completed_in_s is not None and result.completed_in_s < 6.0


def test_the_wrong_order_fails() -> None:
    result = CHECK.check(_challenge(L, B, R), _clip([R, B, L]))
    assert not result.passed
    assert "wrong move at step 1: expected turn_left, saw turn_right" in result.reason


def test_too_slow_fails() -> None:
    slow = _clip([L, B, R], dt=0.4)  # the same moves, four times slower
    result = CHECK.check(_challenge(L, B, R, limit=6.0), slow)
    assert not result.passed and result.reason.startswith("too slow")


def test_a_static_photo_fails() -> None:
    still = [
        FaceObservation(t=0.1 * i + 0.2, box=None, landmarks=_landmarks(0.02), eye_openness=OPEN)
        for i in range(40)
    ]
    result = CHECK.check(_challenge(L, B, R), still)
    assert not result.passed and "no head turn or blink" in result.reason


def test_missing_steps_fail_and_extra_turns_fail() -> None:
    incomplete = CHECK.check(_challenge(L, B, R), _clip([L, B]))
    assert not incomplete.passed and "2 of 3 steps" in incomplete.reason
    extra = CHECK.check(_challenge(L, B), _clip([L, B, R]))
    assert not extra.passed and "extra move" in extra.reason


def test_a_spontaneous_blink_is_tolerated() -> None:
    result = CHECK.check(_challenge(L, R, B), _clip([B, L, R, B]))
    assert result.passed, result.reason


def test_frames_from_before_the_challenge_fail() -> None:
    replay = _clip([L, B, R], start=-5.0)
    assert "predate the challenge" in CHECK.check(_challenge(L, B, R), replay).reason


def test_a_lost_face_fails() -> None:
    clip = _clip([L, B, R])
    gappy = [FaceObservation(o.t, None, None) if i % 2 else o for i, o in enumerate(clip)]
    assert "face lost" in CHECK.check(_challenge(L, B, R), gappy).reason


def test_the_challenge_must_start_frontal() -> None:
    clip = _clip([L, B, R])
    turned_start = [
        FaceObservation(clip[0].t, None, _landmarks(0.3), OPEN),
        *clip[1:],
    ]
    assert "start facing the camera" in CHECK.check(_challenge(L, B, R), turned_start).reason


def test_challenges_are_random_and_well_formed() -> None:
    drawn = [new_challenge(now=10.0).steps for _ in range(60)]
    assert len(set(drawn)) > 5
    for steps in drawn:
        assert len(steps) == 3 and B in steps and (L in steps or R in steps)
        assert all(a != b for a, b in itertools.pairwise(steps))


def test_eye_openness_falls_when_the_eyes_are_covered(
    engine: FaceEngine, photo: Callable[[str], Frame]
) -> None:
    frame = photo("person01/img2.jpg")
    landmarks = engine.locate(frame)[0].landmarks
    shut = np.array(frame, copy=True)
    for outer, inner in ((landmarks[0], landmarks[1]), (landmarks[2], landmarks[3])):
        centre, width = (outer + inner) / 2, float(np.hypot(*(outer - inner)))
        x0, x1 = int(centre[0] - 0.75 * width), int(centre[0] + 0.75 * width)
        y0, y1 = int(centre[1] - 0.4 * width), int(centre[1] + 0.4 * width)
        # Lid-coloured skin over the eye, as when it is closed: the patch's border colour.
        skin = np.median(frame[y1 : y1 + 6, x0:x1].reshape(-1, 3), axis=0)
        shut[y0:y1, x0:x1] = skin.astype(np.uint8)
    open_score, shut_score = eye_openness(frame, landmarks), eye_openness(shut, landmarks)
    assert shut_score < CHECK.blink_drop * open_score


def test_observe_tracks_the_face_between_frames(
    engine: FaceEngine, photo: Callable[[str], Frame]
) -> None:
    frame = photo("person02/img42.jpg")
    first = observe(engine, frame, 0.0)
    again = observe(engine, frame, 0.1, first)
    assert first.box is not None and again.box is not None and first.landmarks is not None
    assert again.landmarks is not None
    assert np.abs(first.landmarks - again.landmarks).max() < 0.05 * first.box.width
    assert first.eye_openness is not None and first.eye_openness > 0


def test_a_flat_photo_tilted_before_the_camera_does_not_turn(
    engine: FaceEngine, photo: Callable[[str], Frame]
) -> None:
    """Rotating a printed photo about its vertical axis squeezes it; the nose stays centred."""
    image = Image.fromarray(photo("person01/img2.jpg"))
    frontal = pose_of(engine.locate(np.asarray(image))[0].landmarks).yaw
    for squeeze in (0.8, 0.6):
        narrow = image.resize((int(image.width * squeeze), image.height))
        faces = engine.locate(np.asarray(narrow))
        if not faces:  # too narrow for the detector: no turn can be seen either
            continue
        yaw = pose_of(faces[0].landmarks).yaw
        assert abs(yaw - frontal) < CHECK.turn_yaw / 2
