"""Settings from the environment (KSTANCE_*) and kstance.toml; the environment wins."""
from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from classifiers.corpus import seeds_dir
from vocab.errors import InputError


class SettingsError(InputError, ValueError):
    """Bad configuration; the message is one line naming the problem."""


def config_path() -> Path:
    return Path(os.environ.get("KSTANCE_CONFIG", "kstance.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KSTANCE_", extra="forbid")

    home: Path = Path(".kstance")
    # secrets: repr(settings), logs and errors show them masked (SecretStr); db_url and parse_channels unwrap them
    database_url: SecretStr | None = None
    alert_urls: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    model: str | None = None  # encoder folder, "e5-small" or cached model id; None: the encoder the artifact names
    model_artifact: Path = Field(default_factory=lambda: seeds_dir() / "model")
    backend: Literal["torch", "onnx"] = "torch"
    feeds: Path = Field(default_factory=lambda: seeds_dir() / "feeds.toml")
    allow_private_addresses: bool = False  # fetch feeds/pages on loopback or private networks (tests, intranets)
    politeness_delay_s: float = 1.0  # between two requests to one host
    max_concurrent_requests: int = 4
    request_timeout_s: float = 20.0
    max_feed_failures: int = 5
    page_retry_limit: int = 4  # a page that failed transiently (5xx, 429, timeout) is fetched at most this often
    page_retry_delay_s: float = 3600.0  # ... again after this delay, doubled after each failure
    db_busy_timeout_s: float = 30.0  # how long a write waits for another writer's lock before failing clearly
    schedule_cron: str = "0 7 * * *"
    schedule_timezone: str = "Asia/Seoul"
    historical_after_days: int = 14  # a shift confirmed by older articles is recorded but not sent
    # at-most-once: a delivery whose outcome is unknown (timeout after the request left) is not resent;
    # at-least-once: it is (a channel may get a duplicate)
    delivery_guarantee: Literal["at-most-once", "at-least-once"] = "at-most-once"
    delivery_max_attempts: int = Field(default=8, ge=1)  # then the delivery is `dead`, with its last error
    delivery_max_age_h: float = Field(default=72.0, gt=0)  # an alert still undelivered after this is `dead`
    # shift detection (classifiers/shifts.py; README "Shift detection")
    shift_method: Literal["llr", "score-cusum"] = "llr"
    shift_false_alarms_per_year: float = Field(default=0.4, gt=0)  # per target, at the stream's own rate
    shift_regime_purity: float = Field(default=0.65, gt=0.25, lt=1)
    shift_rate_window: int = Field(default=20, ge=2)  # articles the stream's rate is estimated from
    shift_min_articles: int = Field(default=2, ge=1)
    shift_cooldown_days: int = Field(default=7, ge=0)
    cusum_h: float = 5.0  # score-cusum only
    cusum_k: float = 0.5  # score-cusum only
    score_sigma: float = 0.5  # score-cusum only
    report_url: str | None = None  # where the report is published (a web address): alerts link to it
    # daily: one message a day (judgments per target, shifts) instead of single alerts
    digest: Literal["off", "daily"] = "off"

    @field_validator("alert_urls", mode="before")
    @classmethod
    def _split_urls(cls, v):
        if isinstance(v, str):
            return [u for u in v.replace(",", " ").split() if u]
        return v

    @field_validator("database_url", mode="after")
    @classmethod
    def _check_database_url(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None:
            return v
        from extractors.redact import mask_url

        raw = v.get_secret_value().strip()
        scheme, sep, rest = raw.partition("://")
        if not sep or not scheme:
            raise ValueError(f"not a database URL ({mask_url(raw)}): expected dialect://user:password@host/database")
        authority = rest.split("/", 1)[0]
        if rest.count("@") > authority.count("@") or authority.count("@") > 1:
            # libpq would read part of the password as the host name (and look it up in DNS)
            raise ValueError(f"the database URL's user or password holds an unencoded '@' or '/' ({mask_url(raw)}): "
                             "percent-encode them (%40, %2F)")
        try:
            from sqlalchemy.engine import make_url

            make_url(raw).get_dialect()  # an unknown dialect is a configuration error too
        except Exception:
            raise ValueError(f"not a database URL ({mask_url(raw)})") from None
        return v

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_path()
        if path.exists():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def db_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.home / 'kstance.db').resolve()}"

    def open_store(self):
        from store.repository import open_store

        return open_store(self.db_url, self.db_busy_timeout_s)

    # -- the small records the pipeline's core takes (pipeline.config) -------------------------------------

    def classifier_spec(self):
        from pipeline.config import ModelSpec

        return ModelSpec(self.model_artifact, self.model, self.backend, self.home / "onnx")

    def detector_config(self):
        from classifiers.shifts import DetectorConfig

        return DetectorConfig(
            method=self.shift_method, false_alarms_per_year=self.shift_false_alarms_per_year,
            regime_purity=self.shift_regime_purity, rate_window=self.shift_rate_window,
            min_articles=self.shift_min_articles, cooldown_days=self.shift_cooldown_days,
            k=self.cusum_k, h=self.cusum_h, sigma=self.score_sigma)

    def delivery_policy(self):
        from pipeline.config import DeliveryPolicy

        return DeliveryPolicy(historical_after_days=self.historical_after_days, digest=self.digest,
                              report_url=self.report_url, guarantee=self.delivery_guarantee,
                              max_attempts=self.delivery_max_attempts,
                              max_age=timedelta(hours=self.delivery_max_age_h))

    def cycle_config(self):
        from pipeline.cycle import CycleConfig

        # feeds collected ahead of the judging: twice the requests in flight, at least 2
        return CycleConfig(max_feed_failures=self.max_feed_failures, window=max(2, 2 * self.max_concurrent_requests))

    def page_retry_policy(self):
        from store.repository import PageRetryPolicy

        return PageRetryPolicy(self.page_retry_limit, timedelta(seconds=self.page_retry_delay_s))


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
    try:
        settings.home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"setting 'home': cannot use {settings.home} as a folder ({exc.strerror})") from None
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


def read_feed_list(path: Path, enabled_only: bool = True) -> list[dict]:
    """The [[feeds]] tables, checked whole before any work: each has an http(s) url, the urls and the names are
    unique (a feed listed twice gets a crawler blocked), a name is not empty (it defaults to the url)."""
    from urllib.parse import urlsplit

    if not path.exists():
        raise SettingsError(f"{path}: no such feed list")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    feeds = data.get("feeds", [])
    if not isinstance(feeds, list) or any(not isinstance(f, dict) or not f.get("url") for f in feeds):
        raise SettingsError(f"{path}: expected [[feeds]] tables, each with a url")
    urls: dict[str, int] = {}
    names: dict[str, int] = {}
    for i, f in enumerate(feeds, 1):
        url = f["url"]
        where = f"{path}: feed #{i}"
        if not isinstance(url, str):
            raise SettingsError(f"{where}: url must be a string, not {url!r}")
        try:
            parts = urlsplit(url.strip())
        except ValueError as exc:
            raise SettingsError(f"{where}: bad url {url!r}: {exc}") from None
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise SettingsError(f"{where}: url must be http:// or https:// with a host, not {url!r}")
        key = parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()
        if key in urls:
            raise SettingsError(f"{where}: url {url!r} is listed twice (also feed #{urls[key]})")
        urls[key] = i
        name = f.get("name", url)
        if not isinstance(name, str) or not name.strip():
            raise SettingsError(f"{where} ({url}): name must be a non-empty string")
        if name.strip() in names:
            raise SettingsError(f"{where} ({url}): name {name!r} is used twice (also feed #{names[name.strip()]})")
        names[name.strip()] = i
    return [{"name": f.get("name", f["url"]).strip(), "outlet": f.get("outlet", ""), "language": f.get("language"),
             **{k: v for k, v in f.items() if k != "name"}}
            for f in feeds if not enabled_only or f.get("enabled", True)]


def check_schedule(settings: Settings) -> None:
    """The cron string and time zone `kstance serve` registers, checked by Prefect's own schedule model before
    any server starts."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(settings.schedule_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"setting 'schedule_timezone': unknown time zone {settings.schedule_timezone!r} "
                            "(an IANA name like Asia/Seoul or UTC)") from None
    from prefect.client.schemas.schedules import CronSchedule

    try:
        CronSchedule(cron=settings.schedule_cron, timezone=settings.schedule_timezone)
    except ValidationError as exc:
        msg = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise SettingsError(f"setting 'schedule_cron': {settings.schedule_cron!r} is not a valid cron string "
                            f"({msg})") from None
