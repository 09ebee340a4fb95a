"""Alembic environment of the registry service."""

from services.registry.adapters.tables import metadata
from shared.migrations import run_env

run_env(metadata)
