"""Unit tests for ``shared.config``: defaults, validation and explicit values."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from shared.config import (
    MIN_SECRET_BYTES,
    BusSettings,
    ConfigError,
    Settings,
)

LONG_SECRET = "0123456789abcdef" * (MIN_SECRET_BYTES // 16)
assert len(LONG_SECRET) == MIN_SECRET_BYTES
SERVICE_NAMES = ("registry", "mentoring", "events", "notifications")


def from_env(mapping: dict[str, str]) -> Settings:
    """Settings of a platform with four services (the composition root passes its own)."""
    return Settings.from_env(mapping, services=SERVICE_NAMES)


def env_of(tmp_path: Path, **values: str) -> dict[str, str]:
    """A mapping with the var dir in ``tmp_path`` plus the given variables."""
    return {"BOOSTER_VAR_DIR": str(tmp_path), **values}


def config_error(mapping: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as excinfo:
        from_env(mapping)
    return str(excinfo.value)


# --- defaults -------------------------------------------------------------------------


def test_from_env_with_no_variables_uses_every_default_bus_setting(tmp_path: Path) -> None:
    settings = from_env({"BOOSTER_VAR_DIR": str(tmp_path)})

    assert settings.bus == BusSettings()
    assert settings.bus.retry_delays == (1.0, 5.0, 30.0, 120.0)
    assert all(isinstance(delay, float) for delay in settings.bus.retry_delays)


def test_defaults(tmp_path: Path) -> None:
    settings = from_env(env_of(tmp_path))

    assert settings.environment == "development"
    assert settings.var_dir == tmp_path
    assert settings.bus.broker_url == "memory://"
    assert settings.bus.exchange == "booster.events"
    assert settings.bus.prefetch == 300
    assert settings.bus.max_attempts == 5
    assert settings.bus.delivery_limit == 20
    assert settings.jwt_algorithm == "HS256"
    assert settings.jwt_audience == "booster"
    assert settings.smtp_url is None
    assert settings.webhook_allowed_hosts == ()
    assert settings.log_level == "INFO"
    assert settings.log_json is None  # JSON unless the logs go to a terminal
    assert settings.host == "127.0.0.1"
    assert settings.web_concurrency == 2


def test_default_database_urls_are_sqlite_files_per_service(tmp_path: Path) -> None:
    settings = from_env(env_of(tmp_path))

    assert set(settings.database_urls) == {"registry", "mentoring", "events", "notifications"}
    for service in SERVICE_NAMES:
        expected = f"sqlite:///{tmp_path}/{service}.db"
        assert settings.database_urls[service] == expected
        assert settings.database_url(service) == expected


def test_default_var_dir_is_relative_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    settings = from_env({})

    assert settings.var_dir == Path("var")
    assert settings.database_url("registry") == "sqlite:///var/registry.db"
    assert (tmp_path / "var" / "jwt_secret").is_file()


def test_empty_database_url_falls_back_to_the_default(tmp_path: Path) -> None:
    settings = from_env(env_of(tmp_path, BOOSTER_EVENTS_DATABASE_URL=""))

    assert settings.database_url("events") == f"sqlite:///{tmp_path}/events.db"


def test_jwt_secret_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    first = from_env(env_of(tmp_path))

    path = tmp_path / "jwt_secret"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.jwt_secret.encode()) >= MIN_SECRET_BYTES
    assert path.read_text().strip() == first.jwt_secret

    second = from_env(env_of(tmp_path))
    assert second.jwt_secret == first.jwt_secret


def test_jwt_secret_file_is_created_in_a_missing_var_dir(tmp_path: Path) -> None:
    var_dir = tmp_path / "deep" / "var"

    settings = from_env({"BOOSTER_VAR_DIR": str(var_dir)})

    assert (var_dir / "jwt_secret").read_text().strip() == settings.jwt_secret


def test_existing_jwt_secret_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "jwt_secret").write_text(LONG_SECRET + "\n")

    assert from_env(env_of(tmp_path)).jwt_secret == LONG_SECRET


def test_explicit_jwt_secret_creates_no_file(tmp_path: Path) -> None:
    settings = from_env(env_of(tmp_path, BOOSTER_JWT_SECRET=LONG_SECRET))

    assert settings.jwt_secret == LONG_SECRET
    assert not (tmp_path / "jwt_secret").exists()


def test_from_env_reads_only_the_given_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOOSTER_ENV", "staging")
    monkeypatch.setenv("BOOSTER_BROKER_URL", "redis://x")

    settings = from_env(env_of(tmp_path))

    assert settings.environment == "development"
    assert settings.bus.broker_url == "memory://"


# --- invalid values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BOOSTER_ENV", "staging"),
        ("BOOSTER_BROKER_URL", "redis://x"),
        ("BOOSTER_BROKER_URL", "not a url"),
        ("BOOSTER_REGISTRY_DATABASE_URL", "mysql://x"),
        ("BOOSTER_MENTORING_DATABASE_URL", "mysql://x"),
        ("BOOSTER_EVENTS_DATABASE_URL", "mongodb://x"),
        ("BOOSTER_NOTIFICATIONS_DATABASE_URL", "x"),
        ("BOOSTER_PREFETCH", "0"),
        ("BOOSTER_PREFETCH", "-3"),
        ("BOOSTER_PREFETCH", "abc"),
        ("BOOSTER_MAX_ATTEMPTS", "0"),
        ("BOOSTER_DELIVERY_LIMIT", "0"),
        ("BOOSTER_RELAY_BATCH_SIZE", "0"),
        ("BOOSTER_CONSUMER_BATCH_SIZE", "zero"),
        ("BOOSTER_WEB_CONCURRENCY", "0"),
        ("BOOSTER_RETRY_DELAYS", "-1"),
        ("BOOSTER_RETRY_DELAYS", "0"),
        ("BOOSTER_RETRY_DELAYS", "1,-5"),
        ("BOOSTER_RETRY_DELAYS", "x"),
        ("BOOSTER_RETRY_DELAYS", "1,x"),
        ("BOOSTER_RETRY_DELAYS", "nan"),
        ("BOOSTER_RETRY_DELAYS", ""),
        ("BOOSTER_RELAY_POLL_INTERVAL", "soon"),
        ("BOOSTER_LOG_LEVEL", "LOUD"),
        ("BOOSTER_LOG_JSON", "maybe"),
        ("BOOSTER_SMTP_URL", "http://x"),
        ("BOOSTER_SMTP_URL", "127.0.0.1:1025"),
        ("BOOSTER_JWT_ALGORITHM", "none"),
        ("BOOSTER_JWT_ALGORITHM", "RS256"),
        ("BOOSTER_EXCHANGE", "booster"),  # its queues would be the default platform's
        ("BOOSTER_EXCHANGE", "two words"),
        ("BOOSTER_EXCHANGE", ""),
    ],
)
def test_invalid_value_raises_config_error_naming_the_variable(
    tmp_path: Path, name: str, value: str
) -> None:
    message = config_error(env_of(tmp_path, **{name: value}))

    assert name in message


@pytest.mark.parametrize("value", ["0", "-1"])
def test_non_positive_relay_poll_interval_is_refused(tmp_path: Path, value: str) -> None:
    message = config_error(env_of(tmp_path, BOOSTER_RELAY_POLL_INTERVAL=value))

    assert "BOOSTER_RELAY_POLL_INTERVAL" in message


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def test_production_refuses_a_missing_jwt_secret(tmp_path: Path) -> None:
    message = config_error(env_of(tmp_path, BOOSTER_ENV="production"))

    assert "BOOSTER_JWT_SECRET" in message
    assert not (tmp_path / "jwt_secret").exists()


def test_production_refuses_an_empty_jwt_secret(tmp_path: Path) -> None:
    message = config_error(env_of(tmp_path, BOOSTER_ENV="production", BOOSTER_JWT_SECRET=""))

    assert "BOOSTER_JWT_SECRET" in message


def test_production_refuses_a_short_jwt_secret(tmp_path: Path) -> None:
    short = "s" * (MIN_SECRET_BYTES - 1)

    message = config_error(env_of(tmp_path, BOOSTER_ENV="production", BOOSTER_JWT_SECRET=short))

    assert "BOOSTER_JWT_SECRET" in message


def test_production_accepts_a_long_enough_jwt_secret(tmp_path: Path) -> None:
    settings = from_env(
        env_of(
            tmp_path,
            BOOSTER_ENV="production",
            BOOSTER_JWT_SECRET=LONG_SECRET,
            BOOSTER_JWT_ISSUER="https://issuer.example.org",
        )
    )

    assert settings.environment == "production"
    assert settings.jwt_secret == LONG_SECRET
    assert not (tmp_path / "jwt_secret").exists()


@pytest.mark.parametrize("environment", ["development", "test"])
def test_short_jwt_secret_is_refused_outside_production_too(
    tmp_path: Path, environment: str
) -> None:
    # secret strength holds in every environment (tests/security/test_tokens.py has more)
    message = config_error(env_of(tmp_path, BOOSTER_ENV=environment, BOOSTER_JWT_SECRET="short"))

    assert "BOOSTER_JWT_SECRET" in message and "short" not in message


# --- explicit values ------------------------------------------------------------------


def test_explicit_values_are_parsed(tmp_path: Path) -> None:
    settings = from_env(
        env_of(
            tmp_path,
            BOOSTER_ENV="Test",
            BOOSTER_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//",
            BOOSTER_REGISTRY_DATABASE_URL="postgresql+psycopg://u:p@db/registry",
            BOOSTER_EXCHANGE="booster.other",
            BOOSTER_PREFETCH="7",
            BOOSTER_MAX_ATTEMPTS="3",
            BOOSTER_RETRY_DELAYS="0.5,2",
            BOOSTER_DELIVERY_LIMIT="9",
            BOOSTER_RELAY_BATCH_SIZE="11",
            BOOSTER_RELAY_POLL_INTERVAL="0.25",
            BOOSTER_CONSUMER_BATCH_SIZE="13",
            BOOSTER_JWT_SECRET=LONG_SECRET,
            BOOSTER_JWT_ALGORITHM="HS512",
            BOOSTER_JWT_AUDIENCE="others",
            BOOSTER_SMTP_URL="smtp://127.0.0.1:1025",
            BOOSTER_SMTP_FROM="Me <me@example.org>",
            BOOSTER_WEBHOOK_ALLOWED_HOSTS="127.0.0.1,localhost",
            BOOSTER_LOG_LEVEL="debug",
            BOOSTER_LOG_JSON="false",
            BOOSTER_HOST="0.0.0.0",
            BOOSTER_WEB_CONCURRENCY="4",
        )
    )

    assert settings.environment == "test"
    assert settings.bus == BusSettings(
        broker_url="amqp://guest:guest@127.0.0.1:5672//",
        exchange="booster.other",
        prefetch=7,
        max_attempts=3,
        retry_delays=(0.5, 2.0),
        delivery_limit=9,
        relay_batch_size=11,
        relay_poll_interval=0.25,
        consumer_batch_size=13,
    )
    assert settings.database_url("registry") == "postgresql+psycopg://u:p@db/registry"
    assert settings.database_url("mentoring") == f"sqlite:///{tmp_path}/mentoring.db"
    assert settings.jwt_secret == LONG_SECRET
    assert settings.jwt_algorithm == "HS512"
    assert settings.jwt_audience == "others"
    assert settings.smtp_url == "smtp://127.0.0.1:1025"
    assert settings.smtp_from == "Me <me@example.org>"
    assert settings.webhook_allowed_hosts == ("127.0.0.1", "localhost")
    assert settings.log_level == "DEBUG"
    assert settings.log_json is False
    assert settings.host == "0.0.0.0"
    assert settings.web_concurrency == 4


def test_retry_delays_are_floats(tmp_path: Path) -> None:
    settings = from_env(env_of(tmp_path, BOOSTER_RETRY_DELAYS="0.5,2"))

    assert settings.bus.retry_delays == (0.5, 2.0)
    assert all(isinstance(delay, float) for delay in settings.bus.retry_delays)


def test_webhook_allowed_hosts_is_a_tuple(tmp_path: Path) -> None:
    settings = from_env(env_of(tmp_path, BOOSTER_WEBHOOK_ALLOWED_HOSTS="127.0.0.1,localhost"))

    assert settings.webhook_allowed_hosts == ("127.0.0.1", "localhost")


def test_webhook_allowed_hosts_ignores_spaces_around_commas(tmp_path: Path) -> None:
    settings = from_env(env_of(tmp_path, BOOSTER_WEBHOOK_ALLOWED_HOSTS="127.0.0.1, localhost"))

    assert settings.webhook_allowed_hosts == ("127.0.0.1", "localhost")


@pytest.mark.parametrize("url", ["memory://", "amqp://h", "amqps://h:5671", "pyamqp://guest@h//"])
def test_accepted_broker_urls(tmp_path: Path, url: str) -> None:
    assert from_env(env_of(tmp_path, BOOSTER_BROKER_URL=url)).bus.broker_url == url


@pytest.mark.parametrize("url", ["smtp://127.0.0.1:1025", "smtps://mail.example.org:465"])
def test_accepted_smtp_urls(tmp_path: Path, url: str) -> None:
    assert from_env(env_of(tmp_path, BOOSTER_SMTP_URL=url)).smtp_url == url


def test_empty_smtp_url_means_none(tmp_path: Path) -> None:
    assert from_env(env_of(tmp_path, BOOSTER_SMTP_URL="")).smtp_url is None


@pytest.mark.parametrize("level", ["DEBUG", "info", "Warning", "ERROR", "critical"])
def test_log_level_is_case_insensitive(tmp_path: Path, level: str) -> None:
    settings = from_env(env_of(tmp_path, BOOSTER_LOG_LEVEL=level))

    assert settings.log_level == level.upper()


# --- Settings and BusSettings helpers -------------------------------------------------


def test_database_url_falls_back_to_var_dir(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, database_urls={"registry": "sqlite:///x.db"})

    assert settings.database_url("registry") == "sqlite:///x.db"
    assert settings.database_url("events") == f"sqlite:///{tmp_path}/events.db"


def test_with_overrides_returns_a_changed_copy() -> None:
    settings = Settings()

    changed = settings.with_overrides(environment="test", log_level="DEBUG")

    assert (changed.environment, changed.log_level) == ("test", "DEBUG")
    assert (settings.environment, settings.log_level) == ("development", "INFO")


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(1, 1.0), (2, 5.0), (3, 30.0), (4, 30.0), (5, 30.0), (100, 30.0)],
)
def test_delay_for_clamps_to_the_last_delay(attempt: int, expected: float) -> None:
    bus = BusSettings(retry_delays=(1.0, 5.0, 30.0))

    assert bus.delay_for(attempt) == expected


def test_delay_for_with_default_delays() -> None:
    bus = BusSettings()

    assert [bus.delay_for(n) for n in range(1, 7)] == [1.0, 5.0, 30.0, 120.0, 120.0, 120.0]


def test_delay_for_with_a_single_delay() -> None:
    bus = BusSettings(retry_delays=(0.5,))

    assert [bus.delay_for(n) for n in (1, 2, 10)] == [0.5, 0.5, 0.5]


def test_only_the_named_services_databases_are_read(tmp_path: Path) -> None:
    url = "postgresql+psycopg://u@h/other"
    settings = Settings.from_env(
        env_of(tmp_path, BOOSTER_OTHER_DATABASE_URL=url), services=("registry",)
    )

    assert set(settings.database_urls) == {"registry"}
    assert settings.database_url("other") == f"sqlite:///{tmp_path / 'other.db'}"
