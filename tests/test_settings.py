"""Settings are validated once, refuse unsafe production secrets and explain bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from doorward.errors import ConfigError
from doorward.settings import DEV_SECRET, Settings


def test_defaults_put_sqlite_inside_the_data_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({}, data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite:///{tmp_path.resolve()}/doorward.sqlite3"
    assert settings.keys_dir == tmp_path / "keys"


def test_environment_variables_are_read() -> None:
    settings = Settings.from_env(
        {"DOORWARD_PORT": "9001", "DOORWARD_DATABASE_URL": "postgresql://x@h/db"}
    )
    assert settings.port == 9001
    assert settings.effective_database_url == "postgresql://x@h/db"


def test_overrides_win_over_environment() -> None:
    settings = Settings.from_env({"DOORWARD_PORT": "9001"}, port=9002)
    assert settings.port == 9002


def test_bad_value_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"DOORWARD_PORT": "seventy"})
    assert "port" in info.value.message
    assert "DOORWARD_PORT" in info.value.hint


def test_retention_above_the_hard_cap_is_refused() -> None:
    with pytest.raises(ConfigError, match="access_event_retention_days"):
        Settings.from_env({"DOORWARD_ACCESS_EVENT_RETENTION_DAYS": "120"})


def test_production_refuses_the_default_secret() -> None:
    settings = Settings.from_env({"DOORWARD_ENVIRONMENT": "production"})
    assert settings.secret_key == DEV_SECRET
    with pytest.raises(ConfigError, match="default secret"):
        settings.check_safe()


def test_production_refuses_a_short_secret() -> None:
    settings = Settings.from_env(
        {"DOORWARD_ENVIRONMENT": "production", "DOORWARD_SECRET_KEY": "short"}
    )
    with pytest.raises(ConfigError, match="too short"):
        settings.check_safe()


def test_production_accepts_a_long_secret() -> None:
    settings = Settings.from_env(
        {"DOORWARD_ENVIRONMENT": "production", "DOORWARD_SECRET_KEY": "k" * 48}
    )
    settings.check_safe()
    assert settings.environment == "production"
