"""The programme portfolio: a profile of every participating cluster and who is paired
with whom, as a web page and a PDF, in English, French or Arabic; operators publish it
at a URL that needs no token.

``content`` (what it holds, scrubbed of contact details; its fingerprint), ``wording``
(the words, names and order in a language), ``html`` and ``pdf`` (the two renderings),
``operations`` (its use cases), ``schemas`` and ``views`` (its HTTP routes).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent


@cache
def renderer_version() -> str:
    """A digest of the code and template that turn content into pages: a PDF kept from
    an earlier version of them is made again."""
    digest = hashlib.sha256()
    for path in sorted([*HERE.glob("*.py"), *(HERE / "templates").glob("*.html")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
