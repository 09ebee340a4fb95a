"""Verified bearer tokens, remembered: a small LRU in front of the JWT verifier.

The frontends send the same token with every request until it expires; verifying it
again each time (header, signature, claims) is a fixed cost of every request. The
cache maps the raw token to what the verifier returned for it and its ``exp``:

- a hit holds only while ``now < exp`` (checked on every hit, without the verifier's
  leeway: a token in its leeway seconds goes back to the verifier, which decides);
- an entry is trusted for ``max_age`` seconds at most, then verified again, so a key
  removed from the issuer's key set (or any other change of what the verifier
  accepts) takes effect within that time even for a token seen before;
- only tokens that verified are stored (a refused token costs the verifier every
  time, and cannot evict good ones); the key is the whole raw token, so a hit needs
  the very same bytes that verified;
- at most ``size`` entries, the least recently used evicted first.

:class:`CachedTokenVerifier` is the platform's verifier with the cache in front
(``shared.http.app`` builds it).
"""

from __future__ import annotations

import base64
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import orjson

from shared.auth import Principal, TokenVerifier

P = TypeVar("P")
DEFAULT_SIZE = 1024
DEFAULT_MAX_AGE = 300.0


def expiry(token: str) -> float | None:
    """The ``exp`` claim of a token that has been verified (None if it has none)."""
    try:
        payload = token.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, orjson.JSONDecodeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    return float(exp)


class VerifiedTokens(Generic[P]):
    """``verify`` with its results for valid tokens remembered (see the module)."""

    def __init__(
        self,
        verify: Callable[[str], P],
        *,
        size: int = DEFAULT_SIZE,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if size < 1:
            raise ValueError("the token cache needs room for one token at least")
        self._verify = verify
        self.size = size
        self.max_age = max_age
        self._clock = clock
        self._entries: OrderedDict[str, tuple[P, float]] = OrderedDict()
        """token -> (result, until: min(exp, verified at + max_age))"""
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __call__(self, token: str) -> P:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(token)
            if entry is not None:
                if now < entry[1]:
                    self._entries.move_to_end(token)
                    return entry[0]
                del self._entries[token]
        result = self._verify(token)  # raises for a token it refuses: nothing is stored
        exp = expiry(token)
        if exp is not None and now < exp:
            with self._lock:
                self._entries[token] = (result, min(exp, now + self.max_age))
                self._entries.move_to_end(token)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return result


class CachedTokenVerifier(TokenVerifier):
    """:class:`~shared.auth.TokenVerifier` with :class:`VerifiedTokens` in front."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tokens: VerifiedTokens[Principal] = VerifiedTokens(super().verify)

    def verify(self, token: str) -> Principal:
        return self.tokens(token)
