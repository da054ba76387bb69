"""Threshold calibration from a target FAR, the packaged default, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from doorward.errors import InvalidInput
from doorward.face.calibrate import (
    default_threshold,
    pair_distances,
    person_folders,
    tar_at,
    threshold_for_far,
)
from doorward.face.embed import Embedding, Frame

from .helpers import CachingFaceEngine

pytestmark = pytest.mark.face


@pytest.fixture(scope="session")
def shared_embeddings(
    engine: CachingFaceEngine, photo: Callable[[str], Frame], person_photos: dict[str, list[str]]
) -> dict[str, list[Embedding]]:
    return {p: [engine.embed_frame(photo(n)) for n in names] for p, names in person_photos.items()}


def test_threshold_lets_through_at_most_the_target_share_of_impostors() -> None:
    impostor = np.linspace(0.4, 1.2, 1000)
    threshold, allowed = threshold_for_far(impostor, 0.01)
    assert allowed == 10
    assert int((impostor <= threshold).sum()) == 10
    strict, none = threshold_for_far(impostor, 1e-4)
    assert none == 0 and strict < impostor.min()
    assert tar_at([0.1, 0.2, 0.5], 0.3) == pytest.approx(2 / 3)
    with pytest.raises(InvalidInput):
        threshold_for_far(impostor, 1.5)


def test_the_impostor_budget_is_spent_only_where_it_buys_true_accepts() -> None:
    impostor = np.array([0.50, 0.52, 0.60, 0.70] + [0.9] * 996)  # 1000 pairs: 1e-3 allows 1
    useless = np.array([0.20, 0.30, 0.40])  # all genuine already under the closest impostor
    threshold, accepted = threshold_for_far(impostor, 1e-3, useless)
    assert accepted == 0 and threshold == pytest.approx((0.40 + 0.50) / 2)
    useful = np.array([0.20, 0.30, 0.51])  # admitting one impostor gains a genuine pair
    threshold, accepted = threshold_for_far(impostor, 1e-3, useful)
    assert accepted == 1 and 0.51 < threshold < 0.52


def test_shared_set_reaches_the_target_and_matches_the_packaged_threshold(
    shared_embeddings: dict[str, list[Embedding]],
) -> None:
    pairs = pair_distances(shared_embeddings)
    assert pairs.genuine.size == 140 and pairs.impostor.size == 1690
    threshold, _ = threshold_for_far(pairs.impostor, 1e-3, pairs.genuine)
    far = float((pairs.impostor <= threshold).mean())
    assert far <= 1e-3
    assert tar_at(pairs.genuine, threshold) >= 0.97
    # The packaged default is this calibration, and says where it came from.
    packaged = json.loads(resources.files("doorward.face").joinpath("calibration.json").read_text())
    assert default_threshold() == pytest.approx(threshold, abs=1e-4)
    assert packaged["target_far"] == 1e-3 and packaged["impostor_pairs"] == 1690
    assert "shared/faces" in packaged["dataset"] and packaged["method"]


@pytest.mark.parametrize(
    ("layout", "message"),
    [({}, "no usable layout"), ({"only-one": 3}, "no usable layout"), ({"a": 1, "b": 1}, "2+")],
)
def test_a_bad_folder_gets_a_clear_error(
    tmp_path: Path, layout: dict[str, int], message: str
) -> None:
    for person, count in layout.items():
        (tmp_path / person).mkdir()
        for i in range(count):
            (tmp_path / person / f"{i}.jpg").write_bytes(b"")
    with pytest.raises(InvalidInput, match=message):
        person_folders(tmp_path)


def test_cli_rejects_a_missing_folder_without_a_traceback(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from doorward.cli import main; main()",
            "face",
            "calibrate",
            str(tmp_path / "nope"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    said = " ".join(run.stderr.split())  # rich wraps long lines
    assert "is not a folder" in said and "how to fix: pass a folder" in said
    assert "Traceback" not in run.stderr


def test_cli_calibrates_a_small_folder(faces_dir: Path, tmp_path: Path) -> None:
    from doorward.cli import app

    for person in ("person10", "person11", "person12"):  # links, not copies
        (tmp_path / person).symlink_to(faces_dir / "people" / person)
    out = tmp_path / "calibration.json"
    result = CliRunner().invoke(
        app, ["face", "calibrate", str(tmp_path), "--target-far", "0.01", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "people 3, photos 7" in result.output and "genuine pairs 5" in result.output
    saved = json.loads(out.read_text())
    assert saved["impostor_pairs"] == 16 and 0 < saved["threshold"] < 2


def test_cli_check_reports_each_photo(faces_dir: Path) -> None:
    from doorward.cli import app

    runner = CliRunner()
    good = runner.invoke(app, ["face", "check", str(faces_dir / "people/person01/img2.jpg")])
    bad = runner.invoke(app, ["face", "check", str(faces_dir / "scenes/couple.jpg")])
    assert good.exit_code == 0 and good.output.startswith("accepted")
    assert bad.exit_code == 1 and "2 faces in the frame" in bad.output
