"""Create each service's PostgreSQL database if it is missing (``make up`` runs this first).

The databases are the ones the configuration names (``BOOSTER_<SERVICE>_DATABASE_URL``,
read by ``booster.bootstrap.load_settings``); SQLite ones need nothing. The role in the
URL must be allowed to create databases. docker compose does the same with
``scripts/postgres/create-databases.sh`` when its PostgreSQL volume is first created.
"""

from __future__ import annotations

import sys

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from booster.bootstrap import load_settings
from booster.platform import SERVICE_NAMES


def ensure_database(url: str) -> bool:
    """Create the database of ``url`` unless it exists; True when it was created."""
    target = make_url(url)
    name = target.database
    if not name:
        raise SystemExit(f"no database name in {target.render_as_string()}")
    admin = target.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def main() -> int:
    settings = load_settings()
    for service in SERVICE_NAMES:
        url = settings.database_url(service)
        if not url.startswith("postgresql"):
            print(f"{service}: {url} (SQLite, nothing to create)")
            continue
        created = ensure_database(url)
        shown = make_url(url).render_as_string(hide_password=True)
        print(f"{service}: {'created' if created else 'exists'} {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
