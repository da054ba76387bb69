"""The hub's keys on disk: the Ed25519 signing key, the pseudonym key, the pass-code key.

Both are created on first start under ``settings.keys_dir`` with mode 0600 and never leave
the hub. The signing key's public half goes to every edge in its snapshot.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from doorward.domain.keys import HubKeys
from doorward.errors import ConfigError
from doorward.settings import Settings

__all__ = [
    "load_or_create_hub_keys",
    "load_or_create_pass_code_key",
    "load_or_create_pseudonym_key",
]

SIGNING_KEY_FILE = "hub-signing.key"
PSEUDONYM_KEY_FILE = "pseudonym.key"
PASS_CODE_KEY_FILE = "pass-code.key"  # noqa: S105 (a file name, not a secret)


def _load_or_create(path: Path, make: bytes) -> bytes:
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ConfigError(
                f"key file {path} is readable by other users (mode {mode:o})",
                hint=f"run: chmod 600 {path}",
            )
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    # O_EXCL: two processes starting at once must not both write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(make)
    return make


def load_or_create_hub_keys(settings: Settings) -> HubKeys:
    fresh = HubKeys.generate().private_bytes()
    raw = _load_or_create(settings.keys_dir / SIGNING_KEY_FILE, fresh)
    try:
        return HubKeys.from_private_bytes(raw)
    except Exception as exc:
        raise ConfigError(
            f"the hub signing key in {settings.keys_dir} is damaged",
            hint="restore it from backup; a new key would invalidate every issued token",
        ) from exc


def load_or_create_pseudonym_key(settings: Settings) -> bytes:
    return _load_or_create(settings.keys_dir / PSEUDONYM_KEY_FILE, secrets.token_bytes(32))


def load_or_create_pass_code_key(settings: Settings) -> bytes:
    """The HMAC key of typed pass codes. Edges receive it in their snapshots."""
    return _load_or_create(settings.keys_dir / PASS_CODE_KEY_FILE, secrets.token_bytes(32))
