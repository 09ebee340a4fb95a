#!/bin/sh
# docker compose: the postgres image runs this once, when its data volume is first
# initialised (files in /docker-entrypoint-initdb.d). One database per service, owned by
# POSTGRES_USER; the names must match the BOOSTER_<SERVICE>_DATABASE_URL values that
# docker-compose.yml gives the services (tests/platform/test_compose.py checks it).
# A rerun creates only what is missing. `make up` does the same against a local server
# with scripts/create_databases.py.
set -eu

for database in ${DATABASES:-booster_registry booster_mentoring booster_events booster_notifications}; do
    echo "create-databases: $database"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
SELECT 'CREATE DATABASE $database OWNER "$POSTGRES_USER"'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$database')\gexec
SQL
done
