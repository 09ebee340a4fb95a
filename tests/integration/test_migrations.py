"""Each service's Alembic migrations build exactly the schema its tables declare."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect

from booster.cli import main
from booster.platform import SERVICE_NAMES
from booster.platform import spec as load_spec
from shared.db import make_engine
from shared.migrations import include_object, upgrade


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_migrations_match_the_models(service: str, database_url: str) -> None:
    spec = load_spec(service)
    upgrade(spec, database_url)
    upgrade(spec, database_url)  # idempotent
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": include_object}
            )
            diff = compare_metadata(context, spec.metadata)
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert diff == []
    assert {"outbox", "inbox", "alembic_version"} <= tables


def test_db_upgrade_command_migrates_every_service(tmp_path) -> None:  # noqa: ANN001
    env = {"BOOSTER_VAR_DIR": str(tmp_path), "BOOSTER_LOG_JSON": "false"}
    result = CliRunner().invoke(main, ["db", "upgrade", "all"], env=env)
    assert result.exit_code == 0, result.output
    for service in SERVICE_NAMES:
        assert (tmp_path / f"{service}.db").exists()
        assert f"{service}: at head" in result.output
