"""Bearer-token authentication (JWT) and scope checks for every ``/api/v1`` route.

Tokens are access tokens (RFC 9068 ``typ: at+jwt``) with one pinned algorithm:

- HS256 (HS384, HS512) by default: one shared secret, at least 32 bytes of several
  different characters, in every environment. Whoever holds it can mint tokens.
- EdDSA or RS256 (production): the issuer alone holds the private key (``booster
  token``); services verify with the public keys of a JWKS file or URL, by ``kid``, so
  no service can mint a token. An HS256 token is refused in this mode.

Required claims: ``iss`` (``BOOSTER_JWT_ISSUER``), ``aud`` (``booster``), ``sub`` (a
non-empty string), ``iat`` and ``exp``, with ``exp - iat`` at most
``BOOSTER_JWT_MAX_TTL`` (12 h by default). Scopes are space-separated in ``scope``:
``<service>:read``, ``<service>:write``, ``admin`` (everything), ``ops:read``
(operational detail: /metrics, /readyz checks) and ``self`` (the ``sub`` is a person id
that may read only that person's records).

A refused token gets a 401 with one of three fixed texts (no library message is
echoed); the reason is logged, in one bounded line. Routes declare their scopes with
:func:`requires`; a request under ``/api/`` to a route that declares none is refused
(deny by default).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import jwt
from flask import Flask, current_app, g, request

from shared.config import (
    ASYMMETRIC_ALGORITHMS,
    DEFAULT_JWT_MAX_TTL,
    HMAC_ALGORITHMS,
    Settings,
    secret_weakness,
)
from shared.errors import Forbidden, Unauthorized
from shared.keys import KeyProblem, KeySet, PrivateKey, load_private_key
from shared.logging import get_logger

F = TypeVar("F", bound=Callable[..., Any])
SCOPES_ATTRIBUTE = "_booster_scopes"
LEEWAY_SECONDS = 10
TOKEN_TYPE = "at+jwt"
TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
OPS_SCOPE = "ops:read"
MISSING = "A bearer token is required."
EXPIRED = "The token has expired."
INVALID = "The token is not valid."
MAX_REASON = 200
log = get_logger(__name__)


class TokenInvalid(Unauthorized):
    """No token, or one that does not verify. ``detail`` is one of the fixed texts;
    ``reason`` (for the log only) says what was wrong."""

    def __init__(self, detail: str, reason: str = "") -> None:
        super().__init__(detail)
        self.reason = (reason or detail)[:MAX_REASON]
        self.headers = {"WWW-Authenticate": 'Bearer realm="booster"'}


@dataclass(frozen=True)
class Principal:
    """Who is calling, and what they may do."""

    subject: str
    scopes: frozenset[str]

    def allows(self, *scopes: str) -> bool:
        """True if the token holds ``admin`` or any one of ``scopes``."""
        return "admin" in self.scopes or any(scope in self.scopes for scope in scopes)

    def is_self_only(self, read_scope: str) -> bool:
        """A ``self`` token without ``read_scope`` (or admin): it sees only its own records."""
        return "self" in self.scopes and not self.allows(read_scope)

    def may_see_person(self, person_id: str, read_scope: str) -> bool:
        return self.allows(read_scope) or ("self" in self.scopes and self.subject == person_id)


class TokenVerifier:
    """Verifies bearer tokens with one pinned algorithm, issuer, audience and lifetime.

    ``key``: the HMAC secret (HS256/384/512) or the :class:`~shared.keys.KeySet` of the
    issuer's public keys (EdDSA, RS256)."""

    def __init__(
        self,
        key: str | KeySet,
        audience: str = "booster",
        algorithm: str = "HS256",
        *,
        issuer: str = "booster",
        max_ttl: int = DEFAULT_JWT_MAX_TTL,
    ) -> None:
        if algorithm in HMAC_ALGORITHMS:
            if not isinstance(key, str) or not key:
                raise ValueError(f"a JWT secret is required for {algorithm}")
            if (weakness := secret_weakness(key)) is not None:
                raise ValueError(f"the JWT secret {weakness}")
        elif algorithm in ASYMMETRIC_ALGORITHMS:
            if not isinstance(key, KeySet):
                raise ValueError(f"{algorithm} tokens verify with a key set (JWKS), not a secret")
        else:
            raise ValueError(f"unsupported JWT algorithm {algorithm!r}")
        if not issuer:
            raise ValueError("a JWT issuer is required")
        self._key = key
        self.audience = audience
        self.algorithm = algorithm
        self.issuer = issuer
        self.max_ttl = max_ttl

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier:
        key: str | KeySet = settings.jwt_secret
        if settings.asymmetric_tokens:
            assert settings.jwt_jwks is not None  # the configuration requires it
            key = KeySet(settings.jwt_jwks, settings.jwt_algorithm)
        return cls(
            key,
            settings.jwt_audience,
            settings.jwt_algorithm,
            issuer=settings.jwt_issuer,
            max_ttl=settings.jwt_max_ttl,
        )

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid(INVALID, f"malformed: {type(exc).__name__}") from None
        if header.get("alg") != self.algorithm:
            raise TokenInvalid(INVALID, f"algorithm {str(header.get('alg'))[:20]!r}")
        if header.get("typ") not in TOKEN_TYPES:
            raise TokenInvalid(INVALID, f"type {str(header.get('typ'))[:20]!r}")
        key = self._verification_key(header)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenInvalid(EXPIRED) from None
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid(INVALID, f"{type(exc).__name__}: {exc}") from None
        subject, scope = claims["sub"], claims.get("scope", "")
        if not isinstance(subject, str) or not subject.strip():
            raise TokenInvalid(INVALID, "sub is not a non-empty string")
        if not isinstance(scope, str):
            raise TokenInvalid(INVALID, "scope is not a string")
        lifetime = claims["exp"] - claims["iat"]
        if lifetime > self.max_ttl:
            raise TokenInvalid(INVALID, f"lifetime {lifetime:.0f} s > {self.max_ttl} s")
        return Principal(subject=subject, scopes=frozenset(scope.split()))

    def _verification_key(self, header: dict[str, Any]) -> Any:
        if isinstance(self._key, str):
            return self._key
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid or len(kid) > 128:
            raise TokenInvalid(INVALID, "no kid")
        try:
            key = self._key.key(kid)
        except (OSError, KeyProblem) as exc:
            log.warning("key set unavailable", source=self._key.source, error=repr(exc)[:200])
            raise TokenInvalid(INVALID, "key set unavailable") from None
        if key is None:
            raise TokenInvalid(INVALID, "unknown kid")
        return key


def mint_token(
    key: str | PrivateKey,
    subject: str,
    scope: str,
    *,
    ttl: int = 3600,
    audience: str = "booster",
    algorithm: str = "HS256",
    issuer: str = "booster",
    kid: str | None = None,
) -> str:
    """Issue an access token (tests, and :class:`TokenIssuer`)."""
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": subject,
        "scope": " ".join(scope.split()),
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
    }
    headers = {"typ": TOKEN_TYPE, **({"kid": kid} if kid else {})}
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


@dataclass(frozen=True)
class TokenIssuer:
    """Mints the tokens the platform's services accept, as its settings say: with the
    HMAC secret, or with the issuer's private key (EdDSA, RS256)."""

    key: str | PrivateKey
    algorithm: str
    audience: str
    issuer: str
    max_ttl: int
    kid: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenIssuer:
        """Raises :class:`ValueError` when the settings cannot sign (asymmetric mode
        without ``BOOSTER_JWT_PRIVATE_KEY``)."""
        key: str | PrivateKey = settings.jwt_secret
        kid = None
        if settings.asymmetric_tokens:
            if settings.jwt_private_key is None:
                raise ValueError(
                    f"BOOSTER_JWT_PRIVATE_KEY is needed to sign {settings.jwt_algorithm} tokens "
                    "(only the issuer holds it; `booster keys generate` makes one)"
                )
            key, kid = load_private_key(settings.jwt_private_key)
        return cls(
            key,
            settings.jwt_algorithm,
            settings.jwt_audience,
            settings.jwt_issuer,
            settings.jwt_max_ttl,
            kid,
        )

    def mint(self, subject: str, scope: str, ttl: int = 3600) -> str:
        if not subject.strip():
            raise ValueError("a token needs a subject")
        if not 0 < ttl <= self.max_ttl:
            raise ValueError(f"a token lives 1 to {self.max_ttl} seconds (BOOSTER_JWT_MAX_TTL)")
        return mint_token(
            self.key,
            subject,
            scope,
            ttl=ttl,
            audience=self.audience,
            algorithm=self.algorithm,
            issuer=self.issuer,
            kid=self.kid,
        )


def requires(*scopes: str) -> Callable[[F], F]:
    """Declare the scopes (any one suffices; ``admin`` always does) a route needs."""

    def decorate(view: F) -> F:
        setattr(view, SCOPES_ATTRIBUTE, scopes)
        return view

    return decorate


def current_principal() -> Principal:
    """The caller of the request in hand (set by :func:`install`)."""
    principal = g.get("principal")
    if principal is None:
        raise TokenInvalid(MISSING)
    return principal


def bearer_principal(verifier: TokenVerifier) -> Principal:
    """Verify the request's bearer token; :class:`TokenInvalid` (logged) if it fails."""
    header = request.headers.get("Authorization", "")
    kind, _, token = header.partition(" ")
    try:
        if kind.lower() != "bearer" or not token.strip():
            raise TokenInvalid(MISSING, "no bearer token")
        return verifier.verify(token.strip())
    except TokenInvalid as exc:
        log.info("authentication refused", reason=exc.reason, client=request.remote_addr)
        raise


def _declared_scopes() -> tuple[str, ...] | None:
    view = current_app.view_functions.get(request.endpoint or "")
    target = view
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        method = request.method.lower()
        target = getattr(view_class, method, None)
        if target is None and method == "head":  # Flask answers HEAD with GET
            target = getattr(view_class, "get", None)
    return getattr(target, SCOPES_ATTRIBUTE, None)


def install(app: Flask, verifier: TokenVerifier, prefix: str = "/api/") -> None:
    """Authenticate every request under ``prefix`` and check the route's scopes."""
    app.extensions["booster_verifier"] = verifier

    @app.before_request
    def _authenticate() -> None:
        if not request.path.startswith(prefix) or request.method == "OPTIONS":
            return
        if request.endpoint is None:
            return  # 404/405: let routing answer, it reveals nothing
        principal = bearer_principal(verifier)
        g.principal = principal
        scopes = _declared_scopes()
        if scopes is None:
            raise Forbidden("This route declares no scope; access is denied by default.")
        if not principal.allows(*scopes):
            raise Forbidden(f"This route needs one of the scopes: {' '.join(scopes)}.")
