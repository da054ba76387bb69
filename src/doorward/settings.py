"""Settings: one validated object, built once and passed in (never read at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from doorward.errors import ConfigError

__all__ = ["DEV_SECRET", "Settings"]

#: The session secret used when none is configured. Refused outside development.
DEV_SECRET = "doorward-development-secret-do-not-use-in-production"  # noqa: S105

Environment = Literal["development", "production", "test"]


class Settings(BaseModel):
    """Everything the hub, the edge and the CLI need to start.

    Each field maps to an environment variable ``DOORWARD_<FIELD>``; see docs/configuration.md.
    """

    model_config = {"frozen": True}

    environment: Environment = "development"
    data_dir: Path = Field(default=Path("doorward-data"))
    database_url: str = ""
    secret_key: str = DEV_SECRET
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    mqtt_url: str = ""
    site_id: str = "site-1"
    access_event_retention_days: int = Field(default=30, ge=1, le=90)
    visitor_retention_days: int = Field(default=7, ge=1, le=90)
    token_skew_steps: int = Field(default=1, ge=0, le=10)
    pin_max_failures: int = Field(default=5, ge=1)
    pin_lockout_seconds: int = Field(default=300, ge=1)
    login_rate_limit_per_minute: int = Field(default=10, ge=1)
    edge_offline_seconds: int = Field(default=90, ge=1)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or a SQLite file inside the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'doorward.sqlite3').resolve()}"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    def check_safe(self) -> None:
        """Refuse to start outside development with the default secret."""
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ConfigError(
                "the default secret key is refused in production",
                hint="set DOORWARD_SECRET_KEY to a long random value "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')",
            )
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ConfigError(
                "DOORWARD_SECRET_KEY is too short for production",
                hint="use at least 32 random characters",
            )

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, **overrides: object
    ) -> Settings:
        """Build settings from ``DOORWARD_*`` variables, then apply overrides."""
        source = os.environ if env is None else env
        values: dict[str, object] = {}
        for name in cls.model_fields:
            key = f"DOORWARD_{name.upper()}"
            if key in source:
                values[name] = source[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise ConfigError(
                f"setting {field!r} is invalid: {first['msg']}",
                hint=f"check DOORWARD_{field.upper()}",
            ) from exc
