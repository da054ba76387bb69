"""Consensus across several frames: k of n frames must match before a face is accepted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FaceResult", "decide_consensus", "default_min_matches"]


@dataclass(frozen=True, slots=True)
class FaceResult:
    """The outcome of one 1:1 verification.

    ``distances`` has one entry per usable frame (frames refused by the capture checks are
    counted in ``rejected_frames`` and never match). ``matched`` is true when at least
    ``min_matches`` distances are at or under ``threshold``.
    """

    matched: bool
    matching_frames: int
    min_matches: int
    distances: tuple[float, ...]
    rejected_frames: int
    threshold: float
    reason: str


def default_min_matches(frame_count: int) -> int:
    """A strict majority of the frames offered (2 of 3, 3 of 4, 3 of 5)."""
    return frame_count // 2 + 1


def decide_consensus(
    distances: Sequence[float],
    threshold: float,
    *,
    frame_count: int,
    min_matches: int | None = None,
    rejection_reasons: Sequence[str] = (),
) -> FaceResult:
    """Count frames under the threshold and decide."""
    needed = default_min_matches(frame_count) if min_matches is None else min_matches
    needed = max(1, needed)
    matching = sum(1 for d in distances if d <= threshold)
    matched = matching >= needed
    if matched:
        reason = f"{matching} of {frame_count} frames matched (needed {needed})"
    elif not distances:
        detail = f": {rejection_reasons[0]}" if rejection_reasons else ""
        reason = f"no usable frame{detail}"
    else:
        reason = f"only {matching} of {frame_count} frames matched (needed {needed})"
    return FaceResult(
        matched=matched,
        matching_frames=matching,
        min_matches=needed,
        distances=tuple(float(d) for d in distances),
        rejected_frames=len(rejection_reasons),
        threshold=threshold,
        reason=reason,
    )
