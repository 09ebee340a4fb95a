"""Every setting of the platform, parsed once from ``BOOSTER_*`` environment variables.

``Settings.from_env()`` is the only place that reads the environment. Bad values fail
at start with a :class:`ConfigError` that names the variable. Embedded defaults
(SQLite files under ``./var``, the in-process ``memory://`` bus, a JWT secret created
once under ``./var``) let a newcomer run everything with one command; outside
development those defaults are refused where they would be unsafe.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from environs import Env, EnvError

ENVIRONMENTS = ("development", "test", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MIN_SECRET_BYTES = 32


class ConfigError(ValueError):
    """A configuration variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class BusSettings:
    """How services publish and consume events."""

    broker_url: str = "memory://"
    exchange: str = "booster.events"
    prefetch: int = 300
    max_attempts: int = 5
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)
    delivery_limit: int = 20
    relay_batch_size: int = 500
    relay_poll_interval: float = 1.0
    relay_linger: float = 0.002
    consumer_batch_size: int = 100

    def delay_for(self, attempt: int) -> float:
        """Back-off before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        return self.retry_delays[min(attempt, len(self.retry_delays)) - 1]


@dataclass(frozen=True)
class Settings:
    """Typed platform settings; build with :meth:`from_env` or directly in tests."""

    environment: str = "development"
    var_dir: Path = Path("var")
    database_urls: Mapping[str, str] = field(default_factory=dict)
    bus: BusSettings = field(default_factory=BusSettings)
    jwt_secret: str = ""
    jwt_algorithm: str = "HS256"
    jwt_audience: str = "booster"
    smtp_url: str | None = None
    smtp_from: str = "Booster Track <no-reply@booster.example.org>"
    webhook_allowed_hosts: tuple[str, ...] = ()
    log_level: str = "INFO"
    log_json: bool = True
    host: str = "127.0.0.1"
    web_concurrency: int = 2

    def database_url(self, service: str) -> str:
        """The SQLAlchemy URL of ``service``'s own database."""
        try:
            return self.database_urls[service]
        except KeyError:
            return f"sqlite:///{self.var_dir / f'{service}.db'}"

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields replaced (tests and CLI flags)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, services: Sequence[str]
    ) -> Settings:
        """Parse ``BOOSTER_*`` variables; raise :class:`ConfigError` naming a bad one.

        ``services``: the names whose ``BOOSTER_<SERVICE>_DATABASE_URL`` to read (the
        composition root passes the platform's)."""
        source = os.environ if environ is None else environ
        try:
            return _parse(_MappingEnv(source), services)
        except EnvError as exc:
            raise ConfigError(f"invalid configuration: {exc}") from exc


class _MappingEnv(Env):
    """environs reading from an explicit mapping rather than ``os.environ``."""

    def __init__(self, source: Mapping[str, str]) -> None:
        super().__init__(eager=True, expand_vars=False)
        self._source = source

    def _get_value(self, env_key: str, default: object) -> object:
        return self._source.get(env_key, default)


def _parse(env: Env, services: Sequence[str]) -> Settings:
    environment = env.str("BOOSTER_ENV", "development").lower()
    _check_choice("BOOSTER_ENV", environment, ENVIRONMENTS)
    var_dir = Path(env.str("BOOSTER_VAR_DIR", "var"))

    database_urls: dict[str, str] = {}
    for service in services:
        name = f"BOOSTER_{service.upper()}_DATABASE_URL"
        url = env.str(name, "") or f"sqlite:///{var_dir / f'{service}.db'}"
        _check_database_url(name, url)
        database_urls[service] = url

    broker_url = env.str("BOOSTER_BROKER_URL", "memory://")
    _check_broker_url(broker_url)
    delays = tuple(env.list("BOOSTER_RETRY_DELAYS", [1.0, 5.0, 30.0, 120.0], subcast=float))
    if not delays or any(d <= 0 for d in delays):
        raise ConfigError("BOOSTER_RETRY_DELAYS: give positive seconds, e.g. '1,5,30,120'")
    exchange = env.str("BOOSTER_EXCHANGE", "booster.events")
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,200}", exchange) or exchange == "booster":
        # queues on another exchange are named after it: "booster" would share the
        # default platform's queue names (booster.<service>)
        raise ConfigError(
            "BOOSTER_EXCHANGE: letters, digits and . _ : - only, and not 'booster' "
            "(e.g. 'staging.events')"
        )
    bus = BusSettings(
        broker_url=broker_url,
        exchange=exchange,
        prefetch=_positive(env, "BOOSTER_PREFETCH", 300),
        max_attempts=_positive(env, "BOOSTER_MAX_ATTEMPTS", 5),
        retry_delays=delays,
        delivery_limit=_positive(env, "BOOSTER_DELIVERY_LIMIT", 20),
        relay_batch_size=_positive(env, "BOOSTER_RELAY_BATCH_SIZE", 500),
        relay_poll_interval=_seconds(env, "BOOSTER_RELAY_POLL_INTERVAL", 1.0),
        relay_linger=_seconds(env, "BOOSTER_RELAY_LINGER", 0.002, zero=True),
        consumer_batch_size=_positive(env, "BOOSTER_CONSUMER_BATCH_SIZE", 100),
    )

    jwt_secret = env.str("BOOSTER_JWT_SECRET", "")
    if not jwt_secret:
        if environment == "production":
            raise ConfigError("BOOSTER_JWT_SECRET is required when BOOSTER_ENV=production")
        jwt_secret = _local_secret(var_dir / "jwt_secret")
    elif len(jwt_secret.encode()) < MIN_SECRET_BYTES and environment == "production":
        raise ConfigError(f"BOOSTER_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
    algorithm = env.str("BOOSTER_JWT_ALGORITHM", "HS256")
    _check_choice("BOOSTER_JWT_ALGORITHM", algorithm, ("HS256", "HS384", "HS512"))

    smtp_url = env.str("BOOSTER_SMTP_URL", "") or None
    if smtp_url and urlsplit(smtp_url).scheme not in ("smtp", "smtps"):
        raise ConfigError("BOOSTER_SMTP_URL must look like smtp://host:port")
    allowed_hosts: list[str] = env.list("BOOSTER_WEBHOOK_ALLOWED_HOSTS", [])
    log_level = env.str("BOOSTER_LOG_LEVEL", "INFO").upper()
    _check_choice("BOOSTER_LOG_LEVEL", log_level, LOG_LEVELS)

    return Settings(
        environment=environment,
        var_dir=var_dir,
        database_urls=database_urls,
        bus=bus,
        jwt_secret=jwt_secret,
        jwt_algorithm=algorithm,
        jwt_audience=env.str("BOOSTER_JWT_AUDIENCE", "booster"),
        smtp_url=smtp_url,
        smtp_from=env.str("BOOSTER_SMTP_FROM", "Booster Track <no-reply@booster.example.org>"),
        webhook_allowed_hosts=tuple(host.strip() for host in allowed_hosts if host.strip()),
        log_level=log_level,
        log_json=env.bool("BOOSTER_LOG_JSON", True),
        host=env.str("BOOSTER_HOST", "127.0.0.1"),
        web_concurrency=_positive(env, "BOOSTER_WEB_CONCURRENCY", 2),
    )


def _positive(env: Env, name: str, default: int) -> int:
    value = env.int(name, default)
    if value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value}")
    return value


def _seconds(env: Env, name: str, default: float, *, zero: bool = False) -> float:
    """A duration in seconds: positive, or also zero where ``zero``."""
    value = env.float(name, default)
    if not (value > 0 or (zero and value == 0)):
        bound = "zero or more" if zero else "a positive number of"
        raise ConfigError(f"{name} must be {bound} seconds, got {value}")
    return value


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _check_database_url(name: str, url: str) -> None:
    scheme = urlsplit(url).scheme
    if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
        raise ConfigError(f"{name} must be a sqlite:/// or postgresql+psycopg:// URL; got {url!r}")


def _check_broker_url(url: str) -> None:
    scheme = urlsplit(url).scheme
    if scheme not in ("memory", "amqp", "amqps", "pyamqp"):
        raise ConfigError(f"BOOSTER_BROKER_URL must be memory:// or amqp://...; got {url!r}")


def _local_secret(path: Path) -> str:
    """Read the development JWT secret, creating it (mode 0600) on first use."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret
