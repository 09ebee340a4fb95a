"""Bearer-token authentication (JWT) and scope checks for every ``/api/v1`` route.

Tokens: HS256 by default (the algorithm is pinned: ``alg: none`` and others are
refused), audience ``booster``, ``exp`` and ``sub`` required, scopes space-separated
in ``scope``. Scopes: ``<service>:read``, ``<service>:write``, ``admin`` (everything),
and ``self`` (the ``sub`` is a person id that may read only that person's records).

Routes declare their scopes with :func:`requires`; a request under ``/api/`` to a
route that declares none is refused (deny by default).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import jwt
from flask import Flask, current_app, g, request

from shared.errors import Forbidden, Unauthorized

F = TypeVar("F", bound=Callable[..., Any])
SCOPES_ATTRIBUTE = "_booster_scopes"
LEEWAY_SECONDS = 10


class TokenInvalid(Unauthorized):
    """No token, or one that does not verify."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
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
    """Verifies bearer tokens with one pinned algorithm."""

    def __init__(self, secret: str, audience: str = "booster", algorithm: str = "HS256") -> None:
        if not secret:
            raise ValueError("a JWT secret is required")
        self._secret = secret
        self.audience = audience
        self.algorithm = algorithm

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self.algorithm],
                audience=self.audience,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenInvalid("The token has expired.") from None
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid(f"The token is invalid: {exc}") from None
        scope = claims.get("scope", "")
        if not isinstance(scope, str) or not isinstance(claims["sub"], str):
            raise TokenInvalid("The token's sub and scope must be strings.")
        return Principal(subject=claims["sub"], scopes=frozenset(scope.split()))


def mint_token(
    secret: str,
    subject: str,
    scope: str,
    *,
    ttl: int = 3600,
    audience: str = "booster",
    algorithm: str = "HS256",
) -> str:
    """Issue a token (the ``booster token`` command and tests)."""
    now = int(time.time())
    claims = {
        "sub": subject,
        "scope": " ".join(scope.split()),
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, secret, algorithm=algorithm)


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
        raise TokenInvalid("Authentication is required.")
    return principal


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

    @app.before_request
    def _authenticate() -> None:
        if not request.path.startswith(prefix) or request.method == "OPTIONS":
            return
        if request.endpoint is None:
            return  # 404/405: let routing answer, it reveals nothing
        header = request.headers.get("Authorization", "")
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise TokenInvalid("A bearer token is required.")
        principal = verifier.verify(token.strip())
        g.principal = principal
        scopes = _declared_scopes()
        if scopes is None:
            raise Forbidden("This route declares no scope; access is denied by default.")
        if not principal.allows(*scopes):
            raise Forbidden(f"This route needs one of the scopes: {' '.join(scopes)}.")
