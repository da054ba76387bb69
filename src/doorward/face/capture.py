"""Capture-quality checks on one in-memory RGB frame.

A frame is accepted for enrolment or verification only if it shows exactly one face that is big
enough, sharp enough, roughly frontal and reasonably lit. Each refusal raises
:class:`~doorward.errors.CaptureRejected` saying what was wrong and what the person can do.
All measures are computed from pixels in memory; nothing is kept but the numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from doorward.errors import CaptureRejected
from doorward.face.embed import Box, Frame, Landmarks, LocatedFace, as_frame

__all__ = [
    "CapturePolicy",
    "Pose",
    "check_capture",
    "face_lighting",
    "face_sharpness",
    "grey",
    "pose_of",
]

#: Face crops are rescaled to this width before measuring sharpness, so the blur score does
#: not depend on how far the person stands from the camera.
_SHARPNESS_WIDTH = 160


@dataclass(frozen=True, slots=True)
class CapturePolicy:
    """Limits for an acceptable capture. Defaults were checked on the shared photo set."""

    min_face_px: int = 80
    min_sharpness: float = 25.0
    max_abs_yaw: float = 0.22
    max_abs_roll_deg: float = 20.0
    pitch_range: tuple[float, float] = (0.45, 1.05)
    luminance_range: tuple[float, float] = (45.0, 215.0)
    min_contrast: float = 18.0


@dataclass(frozen=True, slots=True)
class Pose:
    """Head pose from 5-point geometry, as ratios of the distance between the eyes.

    ``yaw``: nose offset along the eye line (+ = nose towards the image's right, i.e. the
    person turned to their own left for a non-mirrored camera). ``roll``: tilt of the eye line in
    degrees. ``pitch``: nose drop below the eye line (about 0.7 when frontal).
    """

    yaw: float
    roll_deg: float
    pitch: float
    eye_distance: float


def pose_of(landmarks: Landmarks) -> Pose:
    """Yaw, roll and pitch proxies from the 5 landmarks."""
    pts = np.asarray(landmarks, dtype=np.float64)
    right_eye = (pts[0] + pts[1]) / 2.0  # the eye on the image's right
    left_eye = (pts[2] + pts[3]) / 2.0
    axis = right_eye - left_eye
    eye_distance = float(np.hypot(axis[0], axis[1]))
    if eye_distance < 1e-6:
        return Pose(yaw=0.0, roll_deg=0.0, pitch=0.0, eye_distance=0.0)
    unit = axis / eye_distance
    perpendicular = np.array([-unit[1], unit[0]])
    nose = pts[4] - (left_eye + right_eye) / 2.0
    return Pose(
        yaw=float(nose @ unit) / eye_distance,
        roll_deg=math.degrees(math.atan2(float(axis[1]), float(axis[0]))),
        pitch=float(nose @ perpendicular) / eye_distance,
        eye_distance=eye_distance,
    )


def grey(image: Frame) -> npt.NDArray[np.float32]:
    """Luma (ITU-R BT.601) as float32."""
    rgb = image.astype(np.float32)
    return np.asarray(0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2], np.float32)


def _face_crop(image: Frame, box: Box) -> Frame:
    h, w = image.shape[:2]
    top, bottom = max(0, box.top), min(h, box.bottom)
    left, right = max(0, box.left), min(w, box.right)
    return image[top:bottom, left:right]


def face_sharpness(image: Frame, box: Box) -> float:
    """Variance of the Laplacian of the face crop, rescaled to a fixed width."""
    from PIL import Image

    crop = _face_crop(image, box)
    if crop.size == 0:
        return 0.0
    height = max(3, round(crop.shape[0] * _SHARPNESS_WIDTH / max(crop.shape[1], 1)))
    resized = np.asarray(
        Image.fromarray(np.ascontiguousarray(crop)).resize(
            (_SHARPNESS_WIDTH, height), Image.Resampling.BILINEAR
        ),
        dtype=np.uint8,
    )
    g = grey(resized)
    laplacian = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4.0 * g[1:-1, 1:-1]
    return float(laplacian.var())


def face_lighting(image: Frame, box: Box) -> tuple[float, float]:
    """Mean luminance and contrast (standard deviation) of the face crop."""
    crop = _face_crop(image, box)
    if crop.size == 0:
        return 0.0, 0.0
    g = grey(crop)
    return float(g.mean()), float(g.std())


def check_capture(
    frame: Frame, faces: list[LocatedFace], policy: CapturePolicy | None = None
) -> LocatedFace:
    """Return the one face if the capture is usable, else raise CaptureRejected."""
    p = policy or CapturePolicy()
    image = as_frame(frame)
    if not faces:
        raise CaptureRejected(
            "no face found in the frame",
            hint="look straight at the camera, about an arm's length away, in even light",
        )
    if len(faces) > 1:
        raise CaptureRejected(
            f"{len(faces)} faces in the frame; exactly one is needed",
            hint="only the person who presented the credential should be in front of the camera",
        )
    face = faces[0]
    size = min(face.box.width, face.box.height)
    if size < p.min_face_px:
        raise CaptureRejected(
            f"face too small ({size} px, need {p.min_face_px})",
            hint="step closer to the camera",
        )
    pose = pose_of(face.landmarks)
    if abs(pose.roll_deg) > p.max_abs_roll_deg:
        raise CaptureRejected(
            f"head tilted {pose.roll_deg:.0f}° (limit {p.max_abs_roll_deg:.0f}°)",
            hint="hold your head upright",
        )
    if abs(pose.yaw) > p.max_abs_yaw:
        raise CaptureRejected(
            f"head turned to the side (yaw {pose.yaw:+.2f}, limit ±{p.max_abs_yaw:.2f})",
            hint="face the camera directly",
        )
    low, high = p.pitch_range
    if not low <= pose.pitch <= high:
        raise CaptureRejected(
            f"head tipped {'up' if pose.pitch < low else 'down'} (pitch {pose.pitch:.2f})",
            hint="look straight at the camera, chin level",
        )
    mean, contrast = face_lighting(image, face.box)
    lo_lum, hi_lum = p.luminance_range
    if mean < lo_lum:
        raise CaptureRejected(
            f"face too dark (mean brightness {mean:.0f}, need ≥ {lo_lum:.0f})",
            hint="turn on the gate light or step into the light",
        )
    if mean > hi_lum:
        raise CaptureRejected(
            f"face overexposed (mean brightness {mean:.0f}, need ≤ {hi_lum:.0f})",
            hint="avoid direct sunlight or glare on the face",
        )
    if contrast < p.min_contrast:
        raise CaptureRejected(
            f"face too flat (contrast {contrast:.0f}, need ≥ {p.min_contrast:.0f})",
            hint="avoid backlight and haze; clean the camera window",
        )
    sharpness = face_sharpness(image, face.box)
    if sharpness < p.min_sharpness:
        raise CaptureRejected(
            f"image too blurred (sharpness {sharpness:.0f}, need ≥ {p.min_sharpness:.0f})",
            hint="hold still for a moment and clean the camera lens",
        )
    return face
