"""``Idempotency-Key`` for writes: a retried POST returns the first result, emits nothing.

The first request's response is stored in the same transaction as its change and its
outbox events (the view's ``uow.begin()`` joins the transaction opened here), so
either all three commit or none. A retry with the same key and the same request gets
the stored response (``Idempotent-Replayed: true``); the same key with a different
request is refused (422). Keys are scoped to the token's subject and kept 24 hours.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from flask import Response, current_app, make_response, request
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.auth import current_principal
from shared.http.problems import InvalidRequestPart
from shared.sql_uow import SqlUnitOfWork

F = TypeVar("F", bound=Callable[..., Any])
HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=24)
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")


def idempotency_table(metadata: MetaData) -> Table:
    """Define the ``idempotency_keys`` table on a service's metadata."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("subject", String(255), primary_key=True),
        Column("key", String(255), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        Column("status", Integer, nullable=False),
        Column("body", Text, nullable=False),
        Column("headers", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    )


class IdempotencyStore:
    """Stored first responses of one service."""

    def __init__(self, table: Table, uow: SqlUnitOfWork[Any]) -> None:
        self.table = table
        self.uow = uow

    def find(self, subject: str, key: str) -> Any | None:
        with self.uow.database.session() as session:
            return session.execute(
                select(self.table).where(
                    self.table.c.subject == subject,
                    self.table.c.key == key,
                    self.table.c.created_at > datetime.now(UTC) - RETENTION,
                )
            ).first()

    def save(
        self, session: Session, subject: str, key: str, fingerprint: str, response: Response
    ) -> None:
        headers = {
            name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers
        }
        session.execute(
            delete(self.table).where(self.table.c.subject == subject, self.table.c.key == key)
        )  # an expired earlier use of the key
        session.execute(
            insert(self.table),
            {
                "subject": subject,
                "key": key,
                "fingerprint": fingerprint,
                "status": response.status_code,
                "body": response.get_data(as_text=True),
                "headers": json.dumps(headers),
                "created_at": datetime.now(UTC),
            },
        )

    def purge(self) -> int:
        """Delete keys older than the retention."""
        with self.uow.database.session() as session:
            result = session.execute(
                delete(self.table).where(self.table.c.created_at < datetime.now(UTC) - RETENTION)
            )
            return getattr(result, "rowcount", 0) or 0


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode()):
        digest.update(part.encode() + b"\0")
    digest.update(request.get_data())
    return digest.hexdigest()


def _replay(row: Any, fingerprint: str) -> Response:
    if row.fingerprint != fingerprint:
        raise InvalidRequestPart(
            "This Idempotency-Key was already used with a different request.",
            errors={HEADER: ["Already used with a different request."]},
            location="headers",
        )
    response = Response(row.body, status=row.status)
    for name, value in json.loads(row.headers).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view: F) -> F:
    """Honour ``Idempotency-Key`` on a write view (put it above ``@blp.response``)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not (0 < len(key) <= 255 and key.isascii() and key.isprintable()):
            raise InvalidRequestPart(
                "Idempotency-Key must be 1 to 255 printable ASCII characters.",
                errors={HEADER: ["Not a valid key."]},
                location="headers",
            )
        store: IdempotencyStore = current_app.extensions["booster_idempotency"]
        subject = current_principal().subject
        fingerprint = _fingerprint()
        if (row := store.find(subject, key)) is not None:
            return _replay(row, fingerprint)
        try:
            with store.uow.begin() as tx:
                response = make_response(view(*args, **kwargs))
                store.save(tx.session, subject, key, fingerprint, response)
        except IntegrityError:
            # a concurrent request with the same key committed first: answer as it did
            if (row := store.find(subject, key)) is None:
                raise
            return _replay(row, fingerprint)
        return response

    return wrapper  # type: ignore[return-value]
