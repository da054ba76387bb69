"""Helpers shared by the face tests."""

from __future__ import annotations

import numpy as np

from doorward.face.embed import Embedding, FaceEngine, Frame


class CachingFaceEngine(FaceEngine):
    """The real engine, remembering the embedding of each (session-cached) frame object."""

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[int, tuple[Frame, Embedding]] = {}
        self.computed = 0

    def embed_frame(self, frame: Frame) -> Embedding:
        hit = self._cache.get(id(frame))
        if hit is not None and hit[0] is frame:
            return hit[1].copy()
        embedding = super().embed_frame(frame)
        self.computed += 1
        self._cache[id(frame)] = (frame, embedding)
        return embedding.copy()


def plausible_float_fraction(blob: bytes) -> float:
    """Highest share, over the 4 byte alignments, of float32 values that look like a template."""
    best = 0.0
    for offset in range(4):
        usable = (len(blob) - offset) // 4 * 4
        values = np.frombuffer(blob[offset : offset + usable], dtype="<f4")
        with np.errstate(invalid="ignore"):
            looks_like = np.isfinite(values) & (np.abs(values) < 0.5) & (np.abs(values) > 1e-4)
        best = max(best, float(looks_like.mean()))
    return best
