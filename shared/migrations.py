"""Alembic, programmatically: one migrations folder per service, its own database."""

from __future__ import annotations

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool

from shared.db import make_engine
from shared.service import ServiceSpec


def alembic_config(spec: ServiceSpec, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(spec.migrations))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["booster_metadata"] = spec.metadata
    return config


def upgrade(spec: ServiceSpec, url: str, revision: str = "head") -> None:
    """Bring ``spec``'s database at ``url`` to ``revision``."""
    command.upgrade(alembic_config(spec, url), revision)


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave out of autogenerate what only migrations manage (PostgreSQL trigram indexes)."""
    return not (type_ == "index" and name is not None and name.endswith("_trgm"))


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py`` (online mode only)."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic config without sqlalchemy.url")
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
