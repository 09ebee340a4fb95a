"""Alembic environment of the notifications service."""

from services.notifications.adapters.tables import metadata
from shared.migrations import run_env

run_env(metadata)
