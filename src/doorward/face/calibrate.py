"""Threshold calibration from a target false-accept rate (FAR), never the library default.

Given a folder laid out as ``<person>/*.jpg`` (or a folder holding ``people/<person>/*.jpg``),
embed every photo that passes the capture checks, form every genuine pair (same person) and
every impostor pair (different people), and pick the largest distance threshold whose impostor
acceptance rate stays at or under the target. Photos are read into memory and never copied.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from doorward.errors import CaptureRejected, FaceError, InvalidInput
from doorward.face.embed import Embedding, FaceEngine, Frame

__all__ = [
    "Calibration",
    "PairDistances",
    "calibrate_folder",
    "default_threshold",
    "embed_folder",
    "load_frame",
    "pair_distances",
    "person_folders",
    "tar_at",
    "threshold_for_far",
]

_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
DEFAULT_FILE = "calibration.json"


@dataclass(frozen=True, slots=True)
class PairDistances:
    genuine: np.ndarray
    impostor: np.ndarray


@dataclass(frozen=True, slots=True)
class Calibration:
    """A calibrated threshold and where it came from."""

    threshold: float
    target_far: float
    far: float
    tar: float
    genuine_pairs: int
    impostor_pairs: int
    false_accepts: int
    people: int
    photos: int
    skipped: list[str] = field(default_factory=list)
    dataset: str = ""
    method: str = (
        "dlib HOG detector, 5-point alignment, 128-d ResNet embedding (unit-normalised), "
        "L2 distance; at most floor(target_far × impostor pairs) impostors may pass; the fewest "
        "impostors reaching the best TAR are admitted, and the threshold sits midway across "
        "the gap between genuine and impostor distances there (widest margin)"
    )
    calibrated_at: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def load_frame(path: Path) -> Frame:
    """Read an image file into an in-memory RGB array (for calibration and benchmarks)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (OSError, UnidentifiedImageError) as exc:
        raise InvalidInput(f"cannot read image {path}: {exc}") from exc


def person_folders(folder: Path) -> dict[str, list[Path]]:
    """``{person: [photo paths]}`` for a calibration folder; clear errors for a bad layout."""
    root = Path(folder)
    if (root / "people").is_dir():
        root = root / "people"
    if not root.is_dir():
        raise InvalidInput(
            f"{folder} is not a folder",
            hint="pass a folder laid out as people/<person>/*.jpg",
        )
    people: dict[str, list[Path]] = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        photos = sorted(p for p in sub.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
        if photos:
            people[sub.name] = photos
    if len(people) < 2 or not any(len(p) >= 2 for p in people.values()):
        raise InvalidInput(
            f"{folder} has no usable layout: found {len(people)} person folder(s) with photos",
            hint="calibration needs at least 2 person folders, one with 2+ photos: "
            "people/<person>/*.jpg",
        )
    return people


def embed_folder(
    people: dict[str, list[Path]],
    engine: FaceEngine,
    *,
    on_photo: Callable[[Path], None] | None = None,
) -> tuple[dict[str, list[Embedding]], list[str]]:
    """Embed every photo; photos that fail the capture checks are skipped and reported."""
    embeddings: dict[str, list[Embedding]] = {}
    skipped: list[str] = []
    for person, photos in people.items():
        for path in photos:
            try:
                embeddings.setdefault(person, []).append(engine.embed_frame(load_frame(path)))
            except CaptureRejected as exc:
                skipped.append(f"{person}/{path.name}: {exc.message}")
            if on_photo is not None:
                on_photo(path)
    return embeddings, skipped


def pair_distances(embeddings: dict[str, list[Embedding]]) -> PairDistances:
    """Every genuine and every impostor pair distance."""
    labels: list[int] = []
    vectors: list[Embedding] = []
    for index, person_vectors in enumerate(embeddings.values()):
        labels.extend([index] * len(person_vectors))
        vectors.extend(person_vectors)
    matrix = np.stack(vectors).astype(np.float64)
    dists = np.linalg.norm(matrix[:, None, :] - matrix[None, :, :], axis=2)
    label = np.asarray(labels)
    upper = np.triu(np.ones_like(dists, dtype=bool), k=1)
    same = label[:, None] == label[None, :]
    return PairDistances(genuine=dists[upper & same], impostor=dists[upper & ~same])


def threshold_for_far(
    impostor: Iterable[float], target_far: float, genuine: Iterable[float] | None = None
) -> tuple[float, int]:
    """A threshold that lets at most floor(target × N) impostor pairs through.

    Returns the threshold and how many calibration impostors it accepts. Without genuine
    distances it is the largest such threshold (midway to the next impostor). With them it
    spends the impostor budget only where it buys true accepts: among the allowed counts it
    takes the fewest impostors that reach the best TAR, and puts the threshold midway across
    the gap between the genuine and impostor distances there, for the widest margin.
    """
    ordered = np.sort(np.asarray(list(impostor), dtype=np.float64))
    if ordered.size == 0:
        raise InvalidInput("no impostor pairs", hint="calibration needs at least two people")
    if not 0.0 < target_far < 1.0:
        raise InvalidInput(f"target FAR must be between 0 and 1, got {target_far}")
    allowed = math.floor(target_far * ordered.size)
    if genuine is None:
        if allowed == 0:
            return float(ordered[0]) * 0.999, 0  # just under the closest impostor
        upper = float(ordered[allowed]) if allowed < ordered.size else float(ordered[-1]) + 1e-3
        return (float(ordered[allowed - 1]) + upper) / 2.0, allowed
    g = np.sort(np.asarray(list(genuine), dtype=np.float64))
    best_count, best_tar = 0, -1.0
    for count in range(min(allowed, ordered.size - 1) + 1):
        tar = float((g < ordered[count]).mean()) if g.size else 0.0
        if tar > best_tar:
            best_count, best_tar = count, tar
    upper = float(ordered[best_count])
    below = g[g < upper]
    lower = max(
        float(below[-1]) if below.size else 0.0,
        float(ordered[best_count - 1]) if best_count else 0.0,
    )
    return (lower + upper) / 2.0, best_count


def tar_at(genuine: Iterable[float], threshold: float) -> float:
    g = np.asarray(list(genuine), dtype=np.float64)
    return float((g <= threshold).mean()) if g.size else 0.0


def calibrate_folder(
    folder: Path,
    *,
    target_far: float = 1e-3,
    engine: FaceEngine | None = None,
    on_photo: Callable[[Path], None] | None = None,
) -> Calibration:
    """Calibrate a threshold on a labelled photo folder."""
    people = person_folders(folder)
    embeddings, skipped = embed_folder(people, engine or FaceEngine(), on_photo=on_photo)
    pairs = pair_distances(embeddings)
    if pairs.genuine.size == 0 or pairs.impostor.size == 0:
        raise InvalidInput(
            "too few photos passed the capture checks to form genuine and impostor pairs",
            hint="use sharper, frontal, well-lit photos",
        )
    threshold, _ = threshold_for_far(pairs.impostor, target_far, pairs.genuine)
    false_accepts = int((pairs.impostor <= threshold).sum())
    return Calibration(
        threshold=round(threshold, 6),
        target_far=target_far,
        far=false_accepts / pairs.impostor.size,
        tar=tar_at(pairs.genuine, threshold),
        genuine_pairs=int(pairs.genuine.size),
        impostor_pairs=int(pairs.impostor.size),
        false_accepts=false_accepts,
        people=len(embeddings),
        photos=sum(len(v) for v in embeddings.values()),
        skipped=skipped,
        dataset=str(folder),
        calibrated_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
    )


@cache
def default_threshold() -> float:
    """The packaged threshold (``face/calibration.json``), calibrated at a target FAR."""
    try:
        text = resources.files("doorward.face").joinpath(DEFAULT_FILE).read_text()
        value = float(json.loads(text)["threshold"])
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise FaceError(
            "the packaged face threshold is missing or unreadable",
            hint="run `doorward face calibrate PATH` and pass the threshold explicitly",
        ) from exc
    if not 0.0 < value < 2.0:
        raise FaceError(f"the packaged face threshold {value} is out of range")
    return value
