"""The registry's REST peers: what a Python team would write instead (bench/rest.py).

Each serves ``GET /api/v1/clusters?limit=N`` -- the same page of clusters, from the
same PostgreSQL tables, with the JWT verified on every request (PyJWT, HS256, the
audience and ``exp`` required) -- the way the library's documentation shows it:

- :func:`flask_marshmallow_app` -- plain Flask, a SQLAlchemy Core query, the rows as
  dicts dumped by a marshmallow schema (the registry's ``ClusterSchema``), ``jsonify``;
- :func:`flask_orjson_app` -- the same with the dicts built by hand and one
  ``orjson.dumps``;
- :func:`fastapi_app` -- FastAPI with a sync endpoint, SQLAlchemy Core, a pydantic
  response model (served by uvicorn workers under gunicorn).

The two Flask peers share :func:`_flask_peer` (the app, the JWT check, ``limit``, the
query) and state only how they turn the rows into the response.

Configured like the registry from ``BOOSTER_REGISTRY_DATABASE_URL`` and
``BOOSTER_JWT_SECRET``. They need the ``bench`` extra (FastAPI, uvicorn). gunicorn
imports this module in the measured processes: imports stay inside the factories.
No ``from __future__ import annotations``: FastAPI reads the endpoint's annotations,
which name classes local to :func:`fastapi_app`.
"""

import os
from collections.abc import Callable, Sequence
from typing import Any

LIST_PATH = "/api/v1/clusters"
AUDIENCE = "booster"


def _config() -> tuple[str, str]:
    return os.environ["BOOSTER_REGISTRY_DATABASE_URL"], os.environ["BOOSTER_JWT_SECRET"]


def _query() -> tuple[Any, Any]:
    """The engine and the page's statement (the registry's tables, name order)."""
    from sqlalchemy import bindparam, create_engine, select

    from services.registry.adapters.tables import clusters

    url, _ = _config()
    engine = create_engine(url, pool_size=5, connect_args={"prepare_threshold": None})
    statement = (
        select(*(c for c in clusters.c if c.name not in ("search_text", "deleted_at")))
        .where(clusters.c.deleted_at.is_(None))
        .order_by(clusters.c.name, clusters.c.id)
        .limit(bindparam("limit"))
    )
    return engine, statement


def _cursor(row: Any) -> str:
    from shared.http.pagination import encode_cursor

    return encode_cursor([row.name, row.id])


def _limit(raw: str | None) -> int:
    try:
        value = int(raw) if raw is not None else 20
    except ValueError:
        value = 0
    return value if 1 <= value <= 200 else -1


def _flask_peer(name: str, render: Callable[[Sequence[Any], str | None], Any]) -> Any:
    """A plain Flask app serving the list: the JWT verified with PyJWT, ``limit`` read,
    the page queried with SQLAlchemy Core; ``render(rows, next_cursor)`` -- the rows shown
    and the next page's cursor (``None``: the last page) -- makes the response."""
    import jwt
    from flask import Flask, abort, request

    engine, statement = _query()
    _, secret = _config()
    app = Flask(f"bench.{name}")

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    @app.get(LIST_PATH)
    def clusters() -> Any:
        _, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                options={"require": ["exp", "sub"]},
            )
        except jwt.InvalidTokenError:
            abort(401)
        limit = _limit(request.args.get("limit"))
        if limit < 0:
            abort(422)
        with engine.connect() as connection:
            rows = connection.execute(statement, {"limit": limit + 1}).all()
        shown = rows[:limit]
        return render(shown, _cursor(shown[-1]) if len(rows) > limit else None)

    return app


def flask_marshmallow_app() -> Any:
    """Plain Flask + SQLAlchemy Core + marshmallow: the rows as dicts dumped by the
    registry's ``ClusterSchema``, ``jsonify``."""
    import json
    from datetime import date

    from flask import jsonify

    from services.registry.schemas import ClusterSchema

    schema = ClusterSchema(many=True)

    def render(rows: Sequence[Any], next_cursor: str | None) -> Any:
        items = []
        for row in rows:
            item = row._asdict()
            item["sectors"] = json.loads(item["sectors"])
            item["labels"] = [
                {
                    **label,
                    "awarded_on": date.fromisoformat(label["awarded_on"]),
                    "valid_until": label["valid_until"]
                    and date.fromisoformat(label["valid_until"]),
                }
                for label in json.loads(item["labels"])
            ]
            items.append(item)
        return jsonify({"items": schema.dump(items), "next_cursor": next_cursor})

    app = _flask_peer("flask_marshmallow", render)
    app.json.sort_keys = False
    return app


def flask_orjson_app() -> Any:
    """Plain Flask + SQLAlchemy Core + orjson: the dicts built by hand, one
    ``orjson.dumps``."""
    import orjson
    from flask import Response

    def render(rows: Sequence[Any], next_cursor: str | None) -> Response:
        items = [
            {
                "id": r.id,
                "name": r.name,
                "acronym": r.acronym,
                "country": r.country,
                "region": r.region,
                "city": r.city,
                "kind": r.kind,
                "sectors": orjson.loads(r.sectors),
                "founded": r.founded,
                "website": r.website,
                "description": r.description,
                "members_count": r.members_count,
                "status": r.status,
                "labels": orjson.loads(r.labels),
                "version": r.version,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
            }
            for r in rows
        ]
        body = orjson.dumps({"items": items, "next_cursor": next_cursor})
        return Response(body + b"\n", mimetype="application/json")

    return _flask_peer("flask_orjson", render)


def fastapi_app() -> Any:
    """FastAPI + SQLAlchemy Core + pydantic, a sync endpoint (run in the threadpool)."""
    import json
    from datetime import datetime
    from typing import Annotated

    import jwt
    from fastapi import FastAPI, Header, HTTPException, Query
    from pydantic import BaseModel

    class LabelOut(BaseModel):
        id: str
        scheme: str
        level: str
        awarded_on: str
        valid_until: str | None

    class ClusterOut(BaseModel):
        id: str
        name: str
        acronym: str | None
        country: str
        region: str
        city: str | None
        kind: str
        sectors: list[str]
        founded: int | None
        website: str | None
        description: str | None
        members_count: int | None
        status: str
        labels: list[LabelOut]
        version: int
        created_at: datetime
        updated_at: datetime

    class ClusterPage(BaseModel):
        items: list[ClusterOut]
        next_cursor: str | None

    engine, statement = _query()
    _, secret = _config()
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(LIST_PATH, response_model=ClusterPage)
    def clusters(
        authorization: Annotated[str, Header()] = "",
        limit: Annotated[int, Query(ge=1, le=200)] = 20,
    ) -> ClusterPage:
        _, _, token = authorization.partition(" ")
        try:
            jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                options={"require": ["exp", "sub"]},
            )
        except jwt.InvalidTokenError:
            raise HTTPException(401) from None
        with engine.connect() as connection:
            rows = connection.execute(statement, {"limit": limit + 1}).all()
        shown = rows[:limit]
        items = [
            ClusterOut(
                **{
                    **row._asdict(),
                    "sectors": json.loads(row.sectors),
                    "labels": json.loads(row.labels),
                }
            )
            for row in shown
        ]
        next_cursor = _cursor(shown[-1]) if len(rows) > limit else None
        return ClusterPage(items=items, next_cursor=next_cursor)

    return app
