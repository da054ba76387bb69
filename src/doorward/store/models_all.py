"""Import every module that defines tables, so Base.metadata knows them all."""

from __future__ import annotations

import importlib
import importlib.util

__all__: list[str] = []

for _name in ("eventlog_models", "models", "face_models", "privacy_models",
              "edge_health_models"):
    _full = f"doorward.store.{_name}"
    if importlib.util.find_spec(_full) is not None:
        importlib.import_module(_full)
