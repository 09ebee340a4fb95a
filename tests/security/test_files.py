"""Files that hold people's data or secrets are their owner's only (mode 0600): the
SQLite databases (with their -wal and -shm files) and the development JWT secret."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from booster.platform import spec
from shared.config import Settings
from shared.db import make_engine
from shared.migrations import upgrade


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (0022), under which files are world-readable by default."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def modes(directory: Path) -> dict[str, int]:
    return {path.name: path.stat().st_mode & 0o777 for path in directory.iterdir()}


def test_sqlite_files_are_created_0600(tmp_path: Path, open_umask: None) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'registry.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE people (name TEXT)"))
        connection.execute(text("INSERT INTO people VALUES ('Salma')"))
    found = modes(tmp_path / "data")
    engine.dispose()
    assert {"registry.db", "registry.db-wal", "registry.db-shm"} <= set(found)
    assert set(found.values()) == {0o600}


def test_a_migrated_service_database_is_0600(tmp_path: Path, open_umask: None) -> None:
    upgrade(spec("registry"), f"sqlite:///{tmp_path / 'registry.db'}")
    assert modes(tmp_path)["registry.db"] == 0o600


def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    path.touch(mode=0o640)
    path.chmod(0o640)  # an operator's choice (e.g. a group that backs it up) is kept
    make_engine(f"sqlite:///{path}").dispose()
    assert path.stat().st_mode & 0o777 == 0o640


def test_the_development_secret_is_created_0600(tmp_path: Path, open_umask: None) -> None:
    Settings.from_env({"BOOSTER_VAR_DIR": str(tmp_path / "var")}, services=("registry",))
    assert modes(tmp_path / "var") == {"jwt_secret": 0o600}
