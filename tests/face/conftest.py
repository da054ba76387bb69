"""Face fixtures: the shared photo set, loaded once per session, and a caching engine.

Photos are read from ``../shared/faces`` into memory; nothing is copied into the repository.
The caching engine computes each photo's embedding once with the real models and then reuses
it, so tests that go through the service and the database many times stay fast.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from doorward.face.calibrate import load_frame, person_folders
from doorward.face.embed import Frame

from .helpers import CachingFaceEngine

# The same location tests/conftest.py gives as SHARED_FACES (that module is not importable
# from here: tests/ is not a package).
_DEFAULT_FACES = Path(__file__).resolve().parents[2] / ".." / "shared" / "faces"
SHARED_FACES = Path(os.environ.get("DOORWARD_FACES_DIR", _DEFAULT_FACES)).resolve()


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    if not (SHARED_FACES / "people").is_dir():
        pytest.fail(f"no shared face photos at {SHARED_FACES} (set DOORWARD_FACES_DIR)")
    return SHARED_FACES


@pytest.fixture(scope="session")
def people(faces_dir: Path) -> dict[str, list[Path]]:
    return person_folders(faces_dir)


@pytest.fixture(scope="session")
def photo(faces_dir: Path) -> Callable[[str], Frame]:
    """``photo("person01/img1.jpg")`` or ``photo("scenes/couple.jpg")``: a cached RGB frame."""
    cache: dict[str, Frame] = {}

    def load(name: str) -> Frame:
        if name not in cache:
            path = faces_dir / name if name.startswith("scenes/") else faces_dir / "people" / name
            frame = load_frame(path)
            frame.setflags(write=False)  # tests must not alter the shared cached frames
            cache[name] = frame
        return cache[name]

    return load


@pytest.fixture(scope="session")
def engine() -> CachingFaceEngine:
    return CachingFaceEngine()


@pytest.fixture(scope="session")
def person_photos(people: dict[str, list[Path]]) -> dict[str, list[str]]:
    """``{person: ["personNN/imgK.jpg", ...]}`` in a stable order."""
    return {p: [f"{p}/{path.name}" for path in paths] for p, paths in people.items()}
