"""Alembic environment of the events service."""

from services.events.adapters.tables import metadata
from shared.migrations import run_env

run_env(metadata)
