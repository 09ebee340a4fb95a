"""The verified-token LRU (``shared.token_cache``): hits, expiry, age, refusals, bounds."""

from __future__ import annotations

import time

import pytest

from shared.auth import EXPIRED, Principal, TokenInvalid, mint_token
from shared.token_cache import CachedTokenVerifier, VerifiedTokens, expiry

SECRET = "token-cache-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Verifier:
    """Counts calls; refuses tokens named in ``refused``."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.refused: set[str] = set()

    def __call__(self, token: str) -> Principal:
        self.calls.append(token)
        if token in self.refused:
            raise TokenInvalid(EXPIRED)
        return Principal(subject=f"sub-{len(self.calls)}", scopes=frozenset({"x"}))


def token(exp: float, sub: str = "a") -> str:
    """A token-shaped string with that ``exp`` (the fake verifier does not check it)."""
    import base64
    import json

    payload = base64.urlsafe_b64encode(json.dumps({"sub": sub, "exp": exp}).encode())
    return f"e30.{payload.decode().rstrip('=')}.sig"


def test_a_token_is_verified_once_and_its_result_reused() -> None:
    verify, clock = Verifier(), Clock(1000.0)
    cache = VerifiedTokens(verify, clock=clock)
    raw = token(exp=2000)
    first = cache(raw)
    clock.now = 1100
    assert cache(raw) is first
    assert verify.calls == [raw]


def test_expiry_is_checked_on_every_hit() -> None:
    verify, clock = Verifier(), Clock(1000.0)
    cache = VerifiedTokens(verify, clock=clock)
    raw = token(exp=1050)
    cache(raw)
    clock.now = 1049.9
    cache(raw)
    assert len(verify.calls) == 1
    clock.now = 1050  # expired: back to the verifier, which refuses it
    verify.refused.add(raw)
    with pytest.raises(TokenInvalid):
        cache(raw)
    assert len(verify.calls) == 2 and len(cache) == 0


def test_an_entry_is_trusted_for_max_age_at_most() -> None:
    verify, clock = Verifier(), Clock(1000.0)
    cache = VerifiedTokens(verify, clock=clock, max_age=60)
    raw = token(exp=5000)
    cache(raw)
    clock.now = 1059
    cache(raw)
    clock.now = 1060
    cache(raw)  # verified again: a key removed meanwhile would now refuse it
    assert len(verify.calls) == 2


def test_refused_tokens_are_never_stored() -> None:
    verify, clock = Verifier(), Clock(1000.0)
    cache = VerifiedTokens(verify, clock=clock)
    raw = token(exp=5000)
    verify.refused.add(raw)
    for _ in range(3):
        with pytest.raises(TokenInvalid):
            cache(raw)
    assert len(verify.calls) == 3 and len(cache) == 0


def test_tokens_without_exp_or_already_expired_are_not_stored() -> None:
    verify, clock = Verifier(), Clock(1000.0)
    cache = VerifiedTokens(verify, clock=clock)
    for raw in ("not-a-jwt", "a.bm90IGpzb24.c", token(exp=999), f"e30.{'e30'}.s"):
        cache(raw)
        cache(raw)
    assert len(cache) == 0 and len(verify.calls) == 8


def test_the_least_recently_used_token_goes_first() -> None:
    verify, clock = Verifier(), Clock(1000.0)
    cache = VerifiedTokens(verify, clock=clock, size=2)
    a, b, c = (token(exp=5000, sub=name) for name in "abc")
    cache(a)
    cache(b)
    cache(a)  # a is now the most recent
    cache(c)  # evicts b
    assert len(cache) == 2
    calls = len(verify.calls)
    cache(a)
    cache(c)
    assert len(verify.calls) == calls
    cache(b)
    assert len(verify.calls) == calls + 1


def test_size_must_hold_a_token() -> None:
    with pytest.raises(ValueError):
        VerifiedTokens(Verifier(), size=0)


def test_expiry_reads_the_exp_claim() -> None:
    raw = mint_token(SECRET, "someone", "registry:read", ttl=120)
    assert expiry(raw) == pytest.approx(time.time() + 120, abs=5)
    assert expiry(token(exp=True)) is None  # a boolean is no time
    assert expiry("a.b") is None


def test_the_cached_verifier_verifies_as_the_verifier_does() -> None:
    verifier = CachedTokenVerifier(SECRET)
    raw = mint_token(SECRET, "someone", "registry:read")
    principal = verifier.verify(raw)
    assert principal == Principal("someone", frozenset({"registry:read"}))
    assert verifier.verify(raw) is principal and len(verifier.tokens) == 1
    forged = raw[:-2] + ("AA" if not raw.endswith("AA") else "BB")
    with pytest.raises(TokenInvalid):
        verifier.verify(forged)
    other = mint_token("another-secret-0123456789-abcdefghijklmnopqrstuvwxyz", "x", "admin")
    with pytest.raises(TokenInvalid):
        verifier.verify(other)
    assert len(verifier.tokens) == 1
