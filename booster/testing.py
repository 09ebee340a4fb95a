"""A service on a migrated database with a test client: the harness of tests and benches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booster.bootstrap import bootstrap, create_app
from booster.platform import spec
from shared.auth import mint_token
from shared.config import Settings
from shared.events.envelope import CloudEvent
from shared.service import Runtime
from shared.testing import migrated

TEST_RATE_LIMIT = "100000/minute"


@dataclass
class ServiceHarness:
    """One service's app on a migrated database, a test client and token helpers."""

    runtime: Runtime
    app: Flask
    secret: str

    @property
    def client(self) -> FlaskClient:
        return self.app.test_client()

    def headers(self, scope: str, sub: str = "tester", **extra: str) -> dict[str, str]:
        """``Authorization`` for a token with ``scope`` (plus any extra headers)."""
        return {"Authorization": f"Bearer {mint_token(self.secret, sub, scope)}", **extra}

    def events(self) -> list[CloudEvent]:
        """Every event in the outbox, in commit order."""
        table = self.runtime.spec.outbox_table
        with self.runtime.database.session() as session:
            bodies = session.scalars(select(table.c.body).order_by(table.c.position)).all()
        return [CloudEvent.from_json(body) for body in bodies]


@contextmanager
def service_harness(
    name: str, database_url: str, var_dir: Path, secret: str
) -> Iterator[ServiceHarness]:
    """Migrate ``name``'s database at ``database_url`` and build its app."""
    migrated(spec(name), database_url)
    settings = Settings(
        environment="test",
        var_dir=var_dir,
        jwt_secret=secret,
        database_urls={name: database_url},
        # tests send hundreds of requests with one token from one address: limits far
        # above that keep the limiter in the path without refusing them
        # (tests/security/test_rate_limits.py checks the real limits)
        ratelimit_auth_failures=TEST_RATE_LIMIT,
        ratelimit_writes=TEST_RATE_LIMIT,
    )
    runtime = bootstrap(name, settings)
    try:
        yield ServiceHarness(runtime=runtime, app=create_app(runtime), secret=secret)
    finally:
        runtime.database.dispose()
