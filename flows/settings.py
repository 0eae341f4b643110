"""Settings from the environment (KSTANCE_*) and kstance.toml; the environment wins."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from classifiers.corpus import seeds_dir


class SettingsError(ValueError):
    """Bad configuration; the message is one line naming the problem."""


def config_path() -> Path:
    return Path(os.environ.get("KSTANCE_CONFIG", "kstance.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KSTANCE_", extra="forbid")

    home: Path = Path(".kstance")
    database_url: str | None = None
    alert_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    model: str | None = None  # encoder folder or cached model id; None: the bundled MiniLM
    model_artifact: Path = Field(default_factory=lambda: seeds_dir() / "model")
    backend: Literal["torch", "onnx"] = "torch"
    feeds: Path = Field(default_factory=lambda: seeds_dir() / "feeds.toml")
    allow_private_addresses: bool = False  # fetch feeds/pages on loopback or private networks (tests, intranets)
    politeness_delay_s: float = 1.0  # between two requests to one host
    max_concurrent_requests: int = 4
    request_timeout_s: float = 20.0
    max_feed_failures: int = 5
    db_busy_timeout_s: float = 30.0  # how long a write waits for another writer's lock before failing clearly
    schedule_cron: str = "0 7 * * *"
    schedule_timezone: str = "Asia/Seoul"
    historical_after_days: int = 14  # a shift confirmed by older articles is recorded but not sent
    cusum_h: float = 5.0
    cusum_k: float = 0.5
    score_sigma: float = 0.5
    report_url: str | None = None  # where the report is published (a web address): alerts link to it
    digest: Literal["off", "daily"] = "off"  # daily: one message a day (judgments per target, shifts) instead of single alerts

    @field_validator("alert_urls", mode="before")
    @classmethod
    def _split_urls(cls, v):
        if isinstance(v, str):
            return [u for u in v.replace(",", " ").split() if u]
        return v

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_path()
        if path.exists():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'kstance.db').resolve()}"

    def open_store(self):
        from store.repository import open_store

        return open_store(self.db_url, self.db_busy_timeout_s)


def load_settings(**overrides) -> Settings:
    path = config_path()
    if path.exists():
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    elif "KSTANCE_CONFIG" in os.environ:
        raise SettingsError(f"{path}: no such configuration file (from KSTANCE_CONFIG)")
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "settings"
        raise SettingsError(f"setting {where!r}: {err['msg']}") from None
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings


def prepare_prefect_env(home: Path) -> None:
    """Prefect's home under KSTANCE_HOME (unless the user set one), telemetry off, quiet logs.
    Must run before prefect is imported."""
    os.environ.setdefault("PREFECT_HOME", str((home / "prefect").resolve()))
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


def read_feed_list(path: Path) -> list[dict]:
    if not path.exists():
        raise SettingsError(f"{path}: no such feed list")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    feeds = data.get("feeds", [])
    if not isinstance(feeds, list) or any(not isinstance(f, dict) or not f.get("url") for f in feeds):
        raise SettingsError(f"{path}: expected [[feeds]] tables, each with a url")
    return [{"name": f.get("name", f["url"]), "outlet": f.get("outlet", ""), "language": f.get("language"), **f}
            for f in feeds if f.get("enabled", True)]
