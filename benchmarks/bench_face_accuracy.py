"""Face verification accuracy on the shared labelled photos (../shared/faces).

Embeds every photo that passes the capture checks, forms every genuine pair (same person)
and every impostor pair (different people), and reports: the distance distributions, TAR at
FAR 1e-2 and 1e-3 with the pair counts behind them, the packaged threshold and its TAR/FAR,
and template-level results (enrol 3 photos, probe with the rest, as the gate does). Baseline
in the same run: the dlib library's customary 0.6 threshold on raw (un-normalised) vectors.
Draws the ROC and the two distance histograms to docs/img/roc.png and writes
benchmarks/results/face_accuracy.json.

    .venv/bin/python benchmarks/bench_face_accuracy.py [--faces ../shared/faces]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402

from doorward.face.calibrate import (  # noqa: E402
    default_threshold,
    load_frame,
    pair_distances,
    person_folders,
    tar_at,
    threshold_for_far,
)
from doorward.face.capture import check_capture  # noqa: E402
from doorward.face.embed import Embedding, FaceEngine, distance  # noqa: E402
from doorward.face.template import build_template  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "face_accuracy.json"
ROC_PNG = ROOT / "docs" / "img" / "roc.png"
DEFAULT_FACES = Path(os.environ.get("DOORWARD_FACES_DIR", ROOT / ".." / "shared" / "faces"))


def embed_all(
    engine: FaceEngine, people: dict[str, list[Path]]
) -> tuple[dict[str, list[Embedding]], dict[str, list[np.ndarray]], list[float]]:
    """Unit embeddings (ours), raw dlib vectors (baseline) and per-photo seconds."""
    unit: dict[str, list[Embedding]] = {}
    raw: dict[str, list[np.ndarray]] = {}
    seconds: list[float] = []
    for person, paths in people.items():
        for path in paths:
            frame = load_frame(path)
            start = time.perf_counter()
            face = check_capture(frame, engine.locate(frame))
            unit.setdefault(person, []).append(engine.embed(frame, face))
            seconds.append(time.perf_counter() - start)
            # The baseline needs dlib's own un-normalised vector: same chip, no normalisation.
            raw.setdefault(person, []).append(raw_descriptor(engine, frame, face))
    return unit, raw, seconds


def raw_descriptor(engine: FaceEngine, frame: np.ndarray, face: object) -> np.ndarray:
    import dlib

    b = face.box  # type: ignore[attr-defined]
    parts = [dlib.point(int(x), int(y)) for x, y in face.landmarks]  # type: ignore[attr-defined]
    shape = dlib.full_object_detection(dlib.rectangle(b.left, b.top, b.right, b.bottom), parts)
    return np.asarray(engine._embedder.compute_face_descriptor(frame, shape, 0), np.float64)


def roc(genuine: np.ndarray, impostor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    thresholds = np.unique(np.concatenate([genuine, impostor, [0.0, 2.0]]))
    far = np.array([(impostor <= t).mean() for t in thresholds])
    tar = np.array([(genuine <= t).mean() for t in thresholds])
    return thresholds, far, tar


def tar_at_far(genuine: np.ndarray, impostor: np.ndarray, target: float) -> dict[str, float]:
    threshold, _ = threshold_for_far(impostor, target, genuine)
    return {
        "target_far": target,
        "threshold": round(threshold, 4),
        "tar": round(tar_at(genuine, threshold), 4),
        "far": round(float((impostor <= threshold).mean()), 5),
        "false_accepts": int((impostor <= threshold).sum()),
        "allowed_false_accepts": math.floor(target * impostor.size),
        "genuine_pairs": int(genuine.size),
        "impostor_pairs": int(impostor.size),
        "resolvable": bool(impostor.size * target >= 1),
    }


def template_trials(
    embeddings: dict[str, list[Embedding]], threshold: float
) -> dict[str, float | int]:
    """Enrol the first 3 photos of each person with 4+; probe with the rest and everyone else."""
    genuine: list[float] = []
    impostor: list[float] = []
    for person, vectors in embeddings.items():
        if len(vectors) < 4:
            continue
        template = build_template(vectors[:3])
        genuine += [distance(template, v) for v in vectors[3:]]
        impostor += [
            distance(template, v) for other, vs in embeddings.items() if other != person for v in vs
        ]
    g, i = np.asarray(genuine), np.asarray(impostor)
    return {
        "templates": sum(1 for v in embeddings.values() if len(v) >= 4),
        "genuine_probes": int(g.size),
        "impostor_probes": int(i.size),
        "tar": round(float((g <= threshold).mean()), 4),
        "far": round(float((i <= threshold).mean()), 5),
        "false_accepts": int((i <= threshold).sum()),
        "max_genuine_distance": round(float(g.max()), 4),
        "min_impostor_distance": round(float(i.min()), 4),
    }


def consensus_trials(
    embeddings: dict[str, list[Embedding]], threshold: float, frames: int = 3
) -> dict[str, float | int]:
    """As at the gate: a 3-photo template, probed with 3 frames, accepted on 2 of 3 under.

    Impostor attempts are every other person's 3-photo windows against each template;
    genuine attempts are the person's own remaining photos (in windows of 3, wrapping).
    """
    need = frames // 2 + 1
    genuine_ok = genuine = impostor_ok = impostor = 0
    for person, vectors in embeddings.items():
        if len(vectors) < 4:
            continue
        template = build_template(vectors[:3])
        rest = vectors[3:]
        windows = [[rest[(k + j) % len(rest)] for j in range(frames)] for k in range(len(rest))]
        for window in windows:
            genuine += 1
            genuine_ok += sum(distance(template, v) <= threshold for v in window) >= need
        for other, vs in embeddings.items():
            if other == person or len(vs) < frames:
                continue
            for k in range(len(vs)):
                window = [vs[(k + j) % len(vs)] for j in range(frames)]
                impostor += 1
                impostor_ok += sum(distance(template, v) <= threshold for v in window) >= need
    return {
        "rule": f"{need} of {frames} frames",
        "genuine_attempts": genuine,
        "tar": round(genuine_ok / genuine, 4),
        "impostor_attempts": impostor,
        "far": round(impostor_ok / impostor, 5),
        "false_accepts": impostor_ok,
    }


def summary(values: np.ndarray) -> dict[str, float]:
    return {
        "min": round(float(values.min()), 4),
        "p50": round(float(np.median(values)), 4),
        "mean": round(float(values.mean()), 4),
        "max": round(float(values.max()), 4),
    }


def plot(genuine: np.ndarray, impostor: np.ndarray, threshold: float, path: Path) -> None:
    _, far, tar = roc(genuine, impostor)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    floor = 1 / (10 * impostor.size)
    left.step(np.maximum(far, floor), tar, where="post", color="tab:blue")
    left.axvline(1e-3, color="grey", linestyle=":", label="FAR 1e-3")
    left.axvline(1e-2, color="grey", linestyle="--", label="FAR 1e-2")
    chosen_far = max(float((impostor <= threshold).mean()), floor)
    left.plot(
        [chosen_far],
        [tar_at(genuine, threshold)],
        "o",
        color="tab:red",
        label=f"packaged threshold {threshold:.3f}",
    )
    left.set(
        xscale="log",
        xlabel="false accept rate (impostor pairs)",
        ylabel="true accept rate (genuine pairs)",
        ylim=(0.8, 1.005),
        title=f"ROC, {genuine.size} genuine / {impostor.size} impostor pairs",
    )
    left.legend(loc="lower right", fontsize=8)
    bins = np.linspace(0, 1.2, 61)
    right.hist(impostor, bins=bins, alpha=0.6, density=True, label="impostor", color="tab:orange")
    right.hist(genuine, bins=bins, alpha=0.6, density=True, label="genuine", color="tab:blue")
    right.axvline(threshold, color="tab:red", label="threshold")
    right.set(
        xlabel="L2 distance (unit embeddings)",
        ylabel="density",
        title="pair distances, shared/faces",
    )
    right.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    args = parser.parse_args()

    engine = FaceEngine()
    people = person_folders(args.faces)
    start = time.perf_counter()
    unit, raw, seconds = embed_all(engine, people)
    wall = time.perf_counter() - start
    pairs = pair_distances(unit)
    g, i = pairs.genuine, pairs.impostor
    raw_pairs = pair_distances(raw)  # type: ignore[arg-type]
    threshold = default_threshold()
    result = {
        "dataset": f"{os.path.relpath(args.faces.resolve(), ROOT)}: "
        f"{sum(len(v) for v in unit.values())} photos, {len(unit)} people",
        "machine": f"{platform.machine()} {psutil.cpu_count()} cores, one thread",
        "genuine_distances": summary(g),
        "impostor_distances": summary(i),
        "at_far_1e-2": tar_at_far(g, i, 1e-2),
        "at_far_1e-3": tar_at_far(g, i, 1e-3),
        "packaged_threshold": {
            "threshold": threshold,
            "tar": round(tar_at(g, threshold), 4),
            "far": round(float((i <= threshold).mean()), 5),
            "false_accepts": int((i <= threshold).sum()),
        },
        "baseline_dlib_0.6_raw": {
            "tar": round(tar_at(raw_pairs.genuine, 0.6), 4),
            "far": round(float((raw_pairs.impostor <= 0.6).mean()), 5),
            "false_accepts": int((raw_pairs.impostor <= 0.6).sum()),
        },
        "template_trials": template_trials(unit, threshold),
        "consensus_trials": consensus_trials(unit, threshold),
        "photo_seconds": {
            "p50_ms": round(statistics.median(seconds) * 1000, 1),
            "p99_ms": round(float(np.percentile(seconds, 99)) * 1000, 1),
            "photos_per_s": round(len(seconds) / wall, 2),
        },
        "rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1),
    }
    plot(g, i, threshold, ROC_PNG)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")

    print(result["dataset"])
    print(f"genuine distances  {result['genuine_distances']}")
    print(f"impostor distances {result['impostor_distances']}")
    for key in ("at_far_1e-2", "at_far_1e-3"):
        r = result[key]
        print(
            f"{key}: threshold {r['threshold']:.4f}  TAR {r['tar']:.2%}  FAR {r['far']:.4%} "
            f"({r['false_accepts']}/{r['impostor_pairs']} impostor, {r['genuine_pairs']} genuine)"
        )
    p, b, t = (
        result["packaged_threshold"],
        result["baseline_dlib_0.6_raw"],
        result["template_trials"],
    )
    print(f"packaged threshold {p['threshold']:.4f}: TAR {p['tar']:.2%} FAR {p['far']:.4%}")
    print(
        f"BASELINE dlib 0.6 on raw vectors: TAR {b['tar']:.2%} FAR {b['far']:.4%} "
        f"({b['false_accepts']} impostor pairs accepted)"
    )
    print(
        f"templates (3 photos): TAR {t['tar']:.2%} over {t['genuine_probes']} probes, "
        f"FAR {t['far']:.4%} over {t['impostor_probes']}"
    )
    c = result["consensus_trials"]
    print(
        f"gate rule ({c['rule']}): TAR {c['tar']:.2%} over {c['genuine_attempts']} attempts, "
        f"FAR {c['far']:.4%} ({c['false_accepts']} of {c['impostor_attempts']})"
    )
    ps = result["photo_seconds"]
    print(
        f"per photo (any size) median {ps['p50_ms']} ms, p99 {ps['p99_ms']} ms, "
        f"{ps['photos_per_s']} photos/s; RSS {result['rss_mb']} MB"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)} and {ROC_PNG.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
