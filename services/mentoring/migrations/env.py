"""Alembic environment of the mentoring service."""

from services.mentoring.adapters.tables import metadata
from shared.migrations import run_env

run_env(metadata)
