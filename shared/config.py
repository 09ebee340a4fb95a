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
MIN_SECRET_DISTINCT = 8
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
ASYMMETRIC_ALGORITHMS = ("EdDSA", "RS256")
"""Token signatures where only the issuer holds the private key; services verify with
public keys (a JWKS), so no service can mint a token for another."""
DEFAULT_JWT_MAX_TTL = 12 * 3600
RATE_LIMIT_STORAGE_SCHEMES = ("memory", "redis", "rediss", "redis+unix", "redis+sentinel")


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
    declare: bool = True
    """Declare the exchange and queues (True), or only check that they exist (False): a
    service on a broker user of its own may not declare (``booster broker setup`` has)."""

    @property
    def broker_urls(self) -> tuple[str, ...]:
        """The broker's URLs: several (``;``-separated, as kombu's failover takes them) are
        nodes of one cluster; a client connects to one and moves to another when it fails."""
        return tuple(url.strip() for url in self.broker_url.split(";") if url.strip())

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
    jwt_issuer: str = "booster"
    """Every token's ``iss`` must be this (``BOOSTER_JWT_ISSUER``)."""
    jwt_max_ttl: int = DEFAULT_JWT_MAX_TTL
    """The longest lifetime (``exp - iat``, seconds) a token may have; longer is refused."""
    jwt_jwks: str | None = None
    """EdDSA/RS256: the issuer's public keys, a JWKS file or an http(s) URL."""
    jwt_private_key: Path | None = None
    """EdDSA/RS256: the issuer's signing key (PEM); only where tokens are minted."""
    ratelimit_storage_url: str = "memory://"
    """Where rate-limit counters live: memory:// (one process) or redis://host:port."""
    ratelimit_auth_failures: str | None = "10/minute"
    """Failed authentications allowed per client address (None: no limit)."""
    ratelimit_writes: str | None = "300/minute"
    """Writes (POST, PUT, PATCH, DELETE under /api/) allowed per token subject."""
    admin_bind: str | None = None
    """``host:port`` of a second listener for /metrics and /readyz detail (serve)."""
    service_broker_urls: Mapping[str, str] = field(default_factory=dict)
    """A service's own broker user (``BOOSTER_<SERVICE>_BROKER_URL``), by service."""
    smtp_url: str | None = None
    smtp_from: str = "Booster Track <no-reply@booster.example.org>"
    webhook_allowed_hosts: tuple[str, ...] = ()
    log_level: str = "INFO"
    log_json: bool | None = None
    """JSON log lines (True), console lines (False), or None: JSON unless the log
    stream is a terminal."""
    host: str = "127.0.0.1"
    web_concurrency: int = 2

    def database_url(self, service: str) -> str:
        """The SQLAlchemy URL of ``service``'s own database."""
        try:
            return self.database_urls[service]
        except KeyError:
            return f"sqlite:///{self.var_dir / f'{service}.db'}"

    @property
    def asymmetric_tokens(self) -> bool:
        """True when tokens are signed by a private key only the issuer holds."""
        return self.jwt_algorithm in ASYMMETRIC_ALGORITHMS

    def for_service(self, service: str) -> Settings:
        """The settings ``service`` runs with: on its own broker user when it has one
        (``BOOSTER_<SERVICE>_BROKER_URL``); such a user only checks the topology that
        ``booster broker setup`` declared."""
        url = self.service_broker_urls.get(service)
        if url is None:
            return self
        return replace(self, bus=replace(self.bus, broker_url=url, declare=False))

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

    broker_url = _broker_urls(env.str("BOOSTER_BROKER_URL", "memory://"))
    service_broker_urls: dict[str, str] = {}
    for service in services:
        name = f"BOOSTER_{service.upper()}_BROKER_URL"
        if value := env.str(name, ""):
            service_broker_urls[service] = _service_broker_url(name, value)
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

    algorithm = env.str("BOOSTER_JWT_ALGORITHM", "HS256")
    _check_choice("BOOSTER_JWT_ALGORITHM", algorithm, (*HMAC_ALGORITHMS, *ASYMMETRIC_ALGORITHMS))
    jwt_secret = env.str("BOOSTER_JWT_SECRET", "")
    jwks = env.str("BOOSTER_JWT_JWKS", "") or None
    private_key = env.str("BOOSTER_JWT_PRIVATE_KEY", "") or None
    if algorithm in ASYMMETRIC_ALGORITHMS:
        if jwt_secret:
            raise ConfigError(
                f"BOOSTER_JWT_SECRET must not be set with BOOSTER_JWT_ALGORITHM={algorithm}: "
                "services hold only the issuer's public keys (BOOSTER_JWT_JWKS)"
            )
        if not jwks:
            raise ConfigError(
                f"BOOSTER_JWT_JWKS is required with BOOSTER_JWT_ALGORITHM={algorithm} "
                "(a JWKS file or URL of the issuer's public keys)"
            )
        _check_jwks(jwks, environment)
    else:
        if jwks or private_key:
            raise ConfigError(
                "BOOSTER_JWT_JWKS and BOOSTER_JWT_PRIVATE_KEY apply to "
                f"BOOSTER_JWT_ALGORITHM={' or '.join(ASYMMETRIC_ALGORITHMS)} only"
            )
        where = "BOOSTER_JWT_SECRET"
        if not jwt_secret:
            if environment == "production":
                raise ConfigError("BOOSTER_JWT_SECRET is required when BOOSTER_ENV=production")
            where = str(var_dir / "jwt_secret")
            jwt_secret = _local_secret(var_dir / "jwt_secret")
        if (weakness := secret_weakness(jwt_secret)) is not None:
            raise ConfigError(f"{where} {weakness}")
    issuer = env.str("BOOSTER_JWT_ISSUER", "").strip()
    if not issuer:
        if environment == "production":
            raise ConfigError("BOOSTER_JWT_ISSUER is required when BOOSTER_ENV=production")
        issuer = "booster"
    max_ttl = _positive(env, "BOOSTER_JWT_MAX_TTL", DEFAULT_JWT_MAX_TTL)

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
        jwt_issuer=issuer,
        jwt_max_ttl=max_ttl,
        jwt_jwks=jwks,
        jwt_private_key=Path(private_key) if private_key else None,
        ratelimit_storage_url=_rate_limit_storage(env),
        ratelimit_auth_failures=_rate_limit(env, "BOOSTER_RATELIMIT_AUTH_FAILURES", "10/minute"),
        ratelimit_writes=_rate_limit(env, "BOOSTER_RATELIMIT_WRITES", "300/minute"),
        admin_bind=_admin_bind(env),
        service_broker_urls=service_broker_urls,
        smtp_url=smtp_url,
        smtp_from=env.str("BOOSTER_SMTP_FROM", "Booster Track <no-reply@booster.example.org>"),
        webhook_allowed_hosts=tuple(host.strip() for host in allowed_hosts if host.strip()),
        log_level=log_level,
        log_json=env.bool("BOOSTER_LOG_JSON", None),
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


def _broker_urls(value: str) -> str:
    """``BOOSTER_BROKER_URL``: memory://, one amqp:// URL, or several separated by ``;``
    (the nodes of a cluster); returned without blanks around the separators."""
    urls = [url.strip() for url in value.split(";") if url.strip()]
    for url in urls or [value]:
        if urlsplit(url).scheme not in ("memory", "amqp", "amqps", "pyamqp"):
            raise ConfigError(
                f"BOOSTER_BROKER_URL must be memory:// or amqp://... (several amqp:// URLs "
                f"separated by ';' for a cluster); got {_without_password(url)!r}"
            )
    if len(urls) > 1 and any(url.startswith("memory") for url in urls):
        raise ConfigError("BOOSTER_BROKER_URL: memory:// cannot be one of several URLs")
    return ";".join(urls)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def secret_weakness(secret: str) -> str | None:
    """Why an HMAC secret is too weak to sign tokens, or None when it will do."""
    raw = secret.encode()
    if len(raw) < MIN_SECRET_BYTES:
        return f"must be at least {MIN_SECRET_BYTES} bytes"
    if len(set(raw)) < MIN_SECRET_DISTINCT:
        return (
            f"must hold at least {MIN_SECRET_DISTINCT} different characters "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    return None


def _check_jwks(jwks: str, environment: str) -> None:
    scheme = urlsplit(jwks).scheme
    if scheme == "http" and environment == "production":
        raise ConfigError("BOOSTER_JWT_JWKS: use https:// (or a file) when BOOSTER_ENV=production")
    if scheme not in ("http", "https") and not Path(jwks).is_file():
        raise ConfigError(f"BOOSTER_JWT_JWKS: no such file {jwks!r} (or give an https:// URL)")


def _service_broker_url(name: str, value: str) -> str:
    urls = [url.strip() for url in value.split(";") if url.strip()]
    for url in urls or [value]:
        parts = urlsplit(url)
        if parts.scheme not in ("amqp", "amqps", "pyamqp") or not parts.username:
            raise ConfigError(
                f"{name} must be amqp://USER:PASSWORD@host:port/vhost (the service's own "
                f"broker user; several URLs separated by ';'); got {_without_password(url)!r}"
            )
    return ";".join(urls)


def _rate_limit(env: Env, name: str, default: str) -> str | None:
    """A limit such as ``10/minute`` or ``100 per hour``; ``off`` for none."""
    from limits import parse

    value = env.str(name, default).strip()
    if value.lower() == "off":
        return None
    try:
        parse(value)
    except ValueError:
        raise ConfigError(
            f"{name} must be a rate such as '10/minute' or '300 per hour', or 'off'; got {value!r}"
        ) from None
    return value


def _rate_limit_storage(env: Env) -> str:
    url = env.str("BOOSTER_RATELIMIT_STORAGE_URL", "memory://")
    if urlsplit(url).scheme not in RATE_LIMIT_STORAGE_SCHEMES:
        raise ConfigError(
            "BOOSTER_RATELIMIT_STORAGE_URL must be memory:// or redis://host:port[/db]; "
            f"got {_without_password(url)!r}"
        )
    return url


def _admin_bind(env: Env) -> str | None:
    value = env.str("BOOSTER_ADMIN_BIND", "").strip()
    if not value:
        return None
    host, _, port = value.rpartition(":")
    if not host or not re.fullmatch("[0-9]{1,5}", port) or not 0 < int(port) < 65536:
        raise ConfigError(
            f"BOOSTER_ADMIN_BIND must be host:port (e.g. 0.0.0.0:9000); got {value!r}"
        )
    return value


def admin_port(bind: str) -> int:
    """The port of a ``host:port`` bind address."""
    return int(bind.rpartition(":")[2])


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
