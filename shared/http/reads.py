"""The Flask side of the read path (``shared.reads``): a JSON response from a value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, current_app

from shared.reads import encode


def json_response(
    value: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """``value`` as the response ``jsonify`` would give (same bytes, final newline, type),
    encoded in one orjson call; flask-smorest's ``@response`` passes it through as is."""
    return current_app.response_class(
        encode(value) + b"\n", status=status, headers=headers, mimetype="application/json"
    )
