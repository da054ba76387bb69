"""Hub keys live under keys_dir with mode 0600, survive restarts, and unsafe setups refuse."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from doorward.errors import ConfigError
from doorward.hub.app import create_app
from doorward.hub.services.keystore import (
    load_or_create_hub_keys,
    load_or_create_pass_code_key,
    load_or_create_pseudonym_key,
)
from doorward.settings import Settings


def test_keys_are_created_once_private_and_reloaded(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path)
    keys = load_or_create_hub_keys(settings)
    pseudonym = load_or_create_pseudonym_key(settings)
    pass_code = load_or_create_pass_code_key(settings)
    assert len(pseudonym) == 32 and len(pass_code) == 32 and pseudonym != pass_code
    for path in settings.keys_dir.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert settings.keys_dir.stat().st_mode & 0o777 == 0o700
    assert load_or_create_hub_keys(settings).public_bytes() == keys.public_bytes()
    assert load_or_create_pseudonym_key(settings) == pseudonym


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path)
    load_or_create_hub_keys(settings)
    path = settings.keys_dir / "hub-signing.key"
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="readable by other users") as raised:
        load_or_create_hub_keys(settings)
    assert "chmod 600" in raised.value.hint


def test_a_damaged_signing_key_is_a_config_error(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path)
    settings.keys_dir.mkdir(parents=True)
    path = settings.keys_dir / "hub-signing.key"
    path.write_bytes(b"short")
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError, match="damaged"):
        load_or_create_hub_keys(settings)


def test_production_refuses_the_default_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="default secret key"):
        create_app(Settings(environment="production", data_dir=tmp_path))
    assert create_app(Settings(environment="production", data_dir=tmp_path,
                               secret_key="x" * 40)) is not None
