"""Capture-quality checks on real photos and on altered copies of them (in memory only)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image, ImageFilter

from doorward.errors import CaptureRejected
from doorward.face.capture import CapturePolicy, check_capture, pose_of
from doorward.face.embed import EMBEDDING_SIZE, FaceEngine, Frame, LocatedFace, as_frame

pytestmark = pytest.mark.face

Photo = Callable[[str], Frame]


def _verdict(engine: FaceEngine, frame: Frame, policy: CapturePolicy | None = None) -> str:
    try:
        check_capture(frame, engine.locate(frame), policy)
    except CaptureRejected as exc:
        return exc.message
    return "accepted"


def test_every_labelled_photo_passes_the_capture_checks(
    engine: FaceEngine, photo: Photo, person_photos: dict[str, list[str]]
) -> None:
    refused = {
        name: verdict
        for names in person_photos.values()
        for name in names
        if (verdict := _verdict(engine, photo(name))) != "accepted"
    }
    assert refused == {}


@pytest.mark.parametrize("scene", ["scenes/couple.jpg", "scenes/selfie-many-people.jpg"])
def test_a_frame_with_several_faces_is_refused(
    engine: FaceEngine, photo: Photo, scene: str
) -> None:
    verdict = _verdict(engine, photo(scene))
    assert "faces in the frame; exactly one is needed" in verdict


def test_no_face_is_refused(engine: FaceEngine) -> None:
    assert _verdict(engine, np.full((480, 640, 3), 128, np.uint8)).startswith("no face found")


def test_a_blurred_frame_is_refused(engine: FaceEngine, photo: Photo) -> None:
    blurred = Image.fromarray(photo("person01/img2.jpg")).filter(ImageFilter.GaussianBlur(6))
    assert _verdict(engine, np.asarray(blurred)).startswith("image too blurred")


def test_lighting_checks(engine: FaceEngine, photo: Photo) -> None:
    frame = photo("person01/img2.jpg").astype(np.int32)
    dark = (frame * 0.12).astype(np.uint8)
    glare = np.clip(frame + 170, 0, 255).astype(np.uint8)
    haze = (frame * 0.1 + 110).astype(np.uint8)
    assert _verdict(engine, dark).startswith("face too dark")
    assert _verdict(engine, glare).startswith("face overexposed")
    assert _verdict(engine, haze).startswith("face too flat")


def test_a_tilted_head_is_refused(engine: FaceEngine, photo: Photo) -> None:
    upright = Image.fromarray(photo("person01/img2.jpg"))
    tilted = upright.rotate(30, expand=True, fillcolor=(128, 128, 128))
    assert _verdict(engine, np.asarray(tilted)).startswith("head tilted")
    assert _verdict(engine, np.asarray(upright)) == "accepted"


def test_a_face_smaller_than_the_policy_is_refused(engine: FaceEngine, photo: Photo) -> None:
    frame = photo("person01/img2.jpg")  # face ~430 px wide
    assert _verdict(engine, frame, CapturePolicy(min_face_px=600)).startswith("face too small")
    assert _verdict(engine, frame, CapturePolicy(min_face_px=200)) == "accepted"


def test_a_turned_head_is_refused(engine: FaceEngine, photo: Photo) -> None:
    frame = photo("person01/img2.jpg")
    face = engine.locate(frame)[0]
    turned = face.landmarks.copy()
    eye_distance = pose_of(face.landmarks).eye_distance
    turned[4, 0] += 0.35 * eye_distance  # the nose swings towards one eye as the head turns
    with pytest.raises(CaptureRejected, match="head turned to the side"):
        check_capture(frame, [LocatedFace(face.box, turned)])


def test_frames_must_be_rgb_uint8_arrays() -> None:
    with pytest.raises(CaptureRejected, match="numpy array"):
        as_frame(b"\xff\xd8\xff\xe0 jpeg bytes")
    with pytest.raises(CaptureRejected, match="RGB uint8"):
        as_frame(np.zeros((10, 10), np.uint8))
    with pytest.raises(CaptureRejected, match="RGB uint8"):
        as_frame(np.zeros((10, 10, 3), np.float32))


def test_embedding_is_a_unit_128_vector_and_stable(engine: FaceEngine, photo: Photo) -> None:
    frame = photo("person03/img8.jpg")
    first = FaceEngine.embed_frame(engine, frame)  # bypass the test cache on purpose
    second = FaceEngine.embed_frame(engine, frame)
    assert first.shape == (EMBEDDING_SIZE,) and first.dtype == np.float32
    assert abs(float(np.linalg.norm(first)) - 1.0) < 1e-5
    assert np.allclose(first, second)
