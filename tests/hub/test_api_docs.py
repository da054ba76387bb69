"""Docs are part of the build: every API route and every setting is documented."""

from __future__ import annotations

from pathlib import Path

from doorward.hub.app import create_app
from doorward.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_api_route_is_documented(tmp_path: Path) -> None:
    app = create_app(Settings(environment="test", data_dir=tmp_path))
    routes = [
        f"`{method.upper()} {path}`"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]
    assert len(routes) > 30
    text = (DOCS / "api.md").read_text()
    missing = [r for r in routes if r not in text]
    assert missing == [], f"document these routes in docs/api.md: {missing}"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    missing = [
        name for name in Settings.model_fields
        if f"`{name}`" not in text or f"`DOORWARD_{name.upper()}`" not in text
    ]
    assert missing == [], f"document these settings in docs/configuration.md: {missing}"
