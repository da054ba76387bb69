"""Face verification speed on ONE core: each step per frame, and a whole gate decision.

Pins the process to one CPU and sets OMP/OpenBLAS threads to 1 before numpy and dlib load.
Frames are built in memory from the shared photos as a gate camera would give them: 640×480
RGB with the face ~200 px wide. Steps timed per frame: detect (HOG on the full frame),
align (5 landmarks), capture checks, embed (ResNet, 150×150 chip), match (one distance),
and the cheap tracking step used for liveness (detect near the last box + eye openness).
Baseline in the same run: HOG with upsample=1 on the full frame, the setting most dlib
wrappers use by default. The decision is timed through ``GateFaceCheck.decide`` on SQLite
for a realistic clip (default 30 frames = 3 s at 10 fps), once batch (all frames after the
clip) and once as the tail latency when frames are observed while they are filmed.

    .venv/bin/python benchmarks/bench_face_speed.py [--frames 24] [--clip 30]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from PIL import Image  # noqa: E402

from doorward.face.calibrate import load_frame, person_folders  # noqa: E402
from doorward.face.capture import check_capture  # noqa: E402
from doorward.face.embed import FaceEngine, Frame, LocatedFace, distance  # noqa: E402
from doorward.face.gate import GateFaceCheck  # noqa: E402
from doorward.face.liveness import (  # noqa: E402
    Action,
    Challenge,
    ChallengeResponseLiveness,
    FaceObservation,
    LivenessResult,
    eye_openness,
)
from doorward.face.service import FaceService  # noqa: E402
from doorward.face.template import new_unlock_secret  # noqa: E402
from doorward.store.db import Database  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "face_speed.json"
FACES = Path(os.environ.get("DOORWARD_FACES_DIR", ROOT / ".." / "shared" / "faces")).resolve()


def gate_frame(engine: FaceEngine, photo: Frame, face_px: int = 200) -> Frame:
    """A 640×480 frame with the photo's face about ``face_px`` wide, centred."""
    box = engine.detect(photo)[0]
    scale = face_px / box.width
    small = Image.fromarray(photo).resize(
        (max(1, round(photo.shape[1] * scale)), max(1, round(photo.shape[0] * scale)))
    )
    cx, cy = (box.left + box.right) / 2 * scale, (box.top + box.bottom) / 2 * scale
    canvas = Image.new("RGB", (640, 480), (118, 118, 118))
    canvas.paste(small, (round(320 - cx), round(240 - cy)))
    return np.asarray(canvas, dtype=np.uint8)


def stats(samples_s: Sequence[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples_s)
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(q[94], 2),
        "p99_ms": round(q[98], 2),
        "per_s": round(1000 / statistics.median(ms), 1) if statistics.median(ms) else 0.0,
    }


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@dataclass
class PassThroughLiveness:
    """Lets the clip through so the decision timing covers verification too."""

    def check(
        self, challenge: Challenge, frames_landmarks: Sequence[FaceObservation]
    ) -> LivenessResult:
        return LivenessResult(True, "timing run")


def time_steps(engine: FaceEngine, frames: Sequence[Frame]) -> dict[str, list[float]]:
    """Each step of the per-frame pipeline, timed separately on every frame."""
    out: dict[str, list[float]] = {
        k: [] for k in ("detect", "align", "checks", "embed", "match", "track", "baseline")
    }
    reference = engine.embed_frame(frames[-1])
    for frame in frames:
        start = time.perf_counter()
        box = engine.detect(frame)[0]
        out["detect"].append(time.perf_counter() - start)
        start = time.perf_counter()
        landmarks = engine.landmarks(frame, box)
        out["align"].append(time.perf_counter() - start)
        located = [LocatedFace(box, landmarks)]
        start = time.perf_counter()
        check_capture(frame, located)
        out["checks"].append(time.perf_counter() - start)
        start = time.perf_counter()
        vector = engine.embed(frame, located[0])
        out["embed"].append(time.perf_counter() - start)
        start = time.perf_counter()
        distance(vector, reference)
        out["match"].append(time.perf_counter() - start)
        start = time.perf_counter()
        tracked = engine.locate_near(frame, box)
        if tracked is not None:
            eye_openness(frame, tracked.landmarks)
        out["track"].append(time.perf_counter() - start)
        start = time.perf_counter()
        engine._detector(frame, 1)  # baseline: the usual wrapper default, upsample once
        out["baseline"].append(time.perf_counter() - start)
    return out


def time_decision(
    engine: FaceEngine, frames: Sequence[Frame], clip_frames: int, rounds: int
) -> dict[str, list[float]]:
    """Whole gate decisions on SQLite: batch (clip handed over at the end) and streaming."""
    out: dict[str, list[float]] = {"batch": [], "tail": [], "liveness": []}
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.sqlite3")
        db.migrate()
        service = FaceService(db, engine)
        secret = new_unlock_secret()
        service.record_consent("bench", policy_version="bench")
        service.enrol("bench", "card", list(frames[:3]), secret)
        clip = [frames[3 + (i % 3)] for i in range(clip_frames)]
        times = [0.1 + i / 10 for i in range(clip_frames)]
        challenge = Challenge((Action.TURN_LEFT, Action.BLINK, Action.TURN_RIGHT), 0.0)
        # The clip is a still sequence, so a pass-through stands at the liveness seam to let
        # verification run; the real check is timed separately on the same observations.
        gate = GateFaceCheck(service, PassThroughLiveness())
        for _ in range(rounds):
            start = time.perf_counter()
            decided = gate.decide("bench", "card", clip, times, secret, challenge)
            out["batch"].append(time.perf_counter() - start)
            assert decided.granted, decided.reason
            streaming = gate.start(challenge)
            for frame, t in zip(clip, times, strict=True):
                streaming.add(frame, t)  # done while filming
            start = time.perf_counter()
            ChallengeResponseLiveness().check(challenge, streaming.observations)
            out["liveness"].append(time.perf_counter() - start)
            start = time.perf_counter()
            streaming.finish("bench", "card", secret)
            out["tail"].append(time.perf_counter() - start + out["liveness"][-1])
        db.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--frames", type=int, default=24, help="gate frames per step")
    parser.add_argument("--clip", type=int, default=30, help="frames in one challenge clip")
    parser.add_argument("--rounds", type=int, default=5, help="decisions to time")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    engine = FaceEngine()
    people = person_folders(FACES)
    photos = [load_frame(p) for paths in people.values() for p in paths][: args.frames]
    frames = [gate_frame(engine, p) for p in photos]
    engine.embed_frame(frames[0])  # load the models before timing

    steps = time_steps(engine, frames)
    parts = ("detect", "align", "checks", "embed", "match")
    per_frame = [sum(row) for row in zip(*(steps[k] for k in parts), strict=True)]
    decision = time_decision(engine, frames, args.clip, args.rounds)
    batch = [b + lc for b, lc in zip(decision["batch"], decision["liveness"], strict=True)]
    rss_mb = psutil.Process().memory_info().rss / 2**20
    result = {
        "machine": f"{platform.machine()} {psutil.cpu_count()} cores (pinned to 1), "
        f"Python {platform.python_version()}",
        "frame": "640x480 RGB, face ~200 px",
        "per_frame": {
            "detect_hog_upsample0": stats(steps["detect"]),
            "align_5_landmarks": stats(steps["align"]),
            "capture_checks": stats(steps["checks"]),
            "embed_resnet": stats(steps["embed"]),
            "match_one_distance": stats(steps["match"]),
            "total_detect_to_match": stats(per_frame),
            "liveness_tracking_step": stats(steps["track"]),
        },
        "baseline": {"detect_hog_upsample1_full_frame": stats(steps["baseline"])},
        "decision": {
            "clip_frames": args.clip,
            "verification_frames": 3,
            "batch_whole_clip": stats(batch),
            "tail_after_last_frame_streaming": stats(decision["tail"]),
            "liveness_check_only": stats(decision["liveness"]),
        },
        "rss_mb": round(rss_mb, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    head = f"{'step (per 640x480 frame, 1 core)':40} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    print(f"{head} {'/s':>7}")
    rows: dict[str, dict[str, float]] = dict(result["per_frame"])  # type: ignore[arg-type]
    rows["BASELINE detect upsample=1"] = result["baseline"]["detect_hog_upsample1_full_frame"]  # type: ignore[index]
    for key, value in result["decision"].items():  # type: ignore[union-attr]
        if isinstance(value, dict):
            rows[f"decision {key}"] = value
    for name, row in rows.items():
        print(
            f"{name:40} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} {row['p99_ms']:8.1f} "
            f"{row['per_s']:7.1f}"
        )
    print(f"clip of {args.clip} frames; RSS {rss_mb:.0f} MB; wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
