"""Service discovery for tests: env var, loopback, testcontainers, else skip or fail."""

from __future__ import annotations

import pytest

from shared import testing


@pytest.fixture
def nothing_running(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOOSTER_TEST_BROKER_URL", raising=False)
    monkeypatch.delenv("BOOSTER_TEST_DATABASE_URL", raising=False)
    monkeypatch.setattr(testing, "_port_open", lambda host, port: False)
    monkeypatch.setattr(testing, "_container", lambda kind: None)


def test_explicit_urls_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOSTER_TEST_BROKER_URL", "amqp://u:p@broker:5672//")
    monkeypatch.setenv("BOOSTER_TEST_DATABASE_URL", "postgresql+psycopg://u@db/x")
    assert testing.find_broker() == "amqp://u:p@broker:5672//"
    assert testing.find_postgres() == "postgresql+psycopg://u@db/x"


def test_containers_are_used_when_nothing_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOOSTER_TEST_BROKER_URL", raising=False)
    monkeypatch.setattr(testing, "_port_open", lambda host, port: False)
    monkeypatch.setattr(testing, "_container", lambda kind: f"{kind}://container")
    assert testing.find_broker() == "rabbitmq://container"


def test_skips_with_the_reason_when_not_required(
    nothing_running: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOOSTER_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="RabbitMQ unavailable"):
        testing.find_broker()
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL unavailable"):
        testing.find_postgres()


def test_fails_when_services_are_required(
    nothing_running: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOOSTER_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="BOOSTER_REQUIRE_SERVICES=1"):
        testing.find_broker()


def test_without_a_docker_engine_container_lookup_returns_none_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(testing.os.path, "exists", lambda path: False)
    assert not testing.docker_configured()
    assert testing._container("rabbitmq") is None
    assert testing._container("postgres") is None


def test_an_unreachable_docker_engine_falls_back_to_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert testing._container("rabbitmq") is None
