"""Bearer tokens: forged, broken and valid ones; scopes; ``self`` tokens; ``booster token``.

The server's secret here is 64+ bytes so that an HS512 token can be signed with it
without PyJWT's InsecureKeyLengthWarning (the suite runs with ``-W error``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.test import TestResponse

from booster.cli import main
from shared.auth import (
    EXPIRED,
    INVALID,
    LEEWAY_SECONDS,
    Principal,
    TokenInvalid,
    TokenVerifier,
    current_principal,
    mint_token,
    requires,
)
from shared.config import Settings
from shared.errors import Forbidden
from shared.http import PROBLEM_JSON
from shared.http.app import create_service_app
from tests.conftest import TEST_SECRET

SECRET = TEST_SECRET + "-and-a-little-longer-for-hs512-0123456789"
OTHER_SECRET = "another-secret-that-is-also-long-enough-for-hs512-signing-0123456789"
assert len(SECRET.encode()) >= 64 and len(OTHER_SECRET.encode()) >= 64


def make_blueprint() -> Blueprint:
    bp = Blueprint("people", __name__, url_prefix="/api/v1")

    @bp.route("/things")
    class Things(MethodView):
        @requires("demo:read")
        @bp.response(200)
        def get(self) -> dict[str, Any]:
            principal = current_principal()
            return {"sub": principal.subject, "scopes": sorted(principal.scopes)}

    @bp.route("/people/<person_id>/inbox")
    class Inbox(MethodView):
        @requires("demo:read", "self")
        @bp.response(200)
        def get(self, person_id: str) -> dict[str, Any]:
            principal = current_principal()
            if not principal.may_see_person(person_id, "demo:read"):
                raise Forbidden("You may read only your own inbox.")
            return {"person": person_id, "self_only": principal.is_self_only("demo:read")}

    return bp


@pytest.fixture
def app(settings: Settings) -> Flask:
    return create_service_app(
        "demo", settings.with_overrides(jwt_secret=SECRET), blueprints=[make_blueprint()]
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def good_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "booster",
        "sub": "p1",
        "scope": "demo:read",
        "aud": "booster",
        "iat": now,
        "exp": now + 300,
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def encode(claims: dict[str, Any], key: str = SECRET, algorithm: str = "HS256") -> str:
    """A token signed by hand, typed as an access token like the platform's own."""
    return jwt.encode(claims, key, algorithm=algorithm, headers={"typ": "at+jwt"})


def get_things(client: FlaskClient, authorization: str | None) -> TestResponse:
    headers = {} if authorization is None else {"Authorization": authorization}
    return client.get("/api/v1/things", headers=headers)


def assert_401(response: TestResponse) -> dict[str, Any]:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.get_json(force=True)
    assert body["status"] == 401
    assert body["title"] == "Unauthorized"
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["detail"], str) and body["detail"]
    text = response.get_data(as_text=True)
    assert SECRET not in text
    assert "Traceback" not in text
    return body


# --- forged and broken tokens -------------------------------------------------------------


def unsigned_by_hand(claims: dict[str, Any]) -> str:
    return f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(claims)}."


def forged_tokens() -> dict[str, str]:
    now = int(time.time())
    valid = mint_token(SECRET, "p1", "demo:read", ttl=300)
    header, _payload, signature = valid.split(".")
    return {
        "wrong-signature": mint_token(OTHER_SECRET, "p1", "demo:read"),
        "wrong-audience": mint_token(SECRET, "p1", "demo:read", audience="elsewhere"),
        "no-audience": encode(good_claims(aud=None)),
        "alg-none-by-hand": unsigned_by_hand(good_claims()),
        "alg-none-by-hand-admin": unsigned_by_hand(good_claims(scope="admin")),
        "alg-none-with-valid-signature": (
            f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(good_claims())}.{signature}"
        ),
        "alg-none-pyjwt": jwt.encode(good_claims(), None, algorithm="none"),
        "alg-missing": f"{b64url({'typ': 'JWT'})}.{b64url(good_claims())}.",
        "hs512-when-hs256-pinned": mint_token(SECRET, "p1", "demo:read", algorithm="HS512"),
        "tampered-payload": f"{header}.{b64url(good_claims(scope='admin'))}.{signature}",
        "expired-beyond-leeway": encode(good_claims(iat=now - 600, exp=now - LEEWAY_SECONDS - 30)),
        "not-yet-valid": encode(good_claims(nbf=now + LEEWAY_SECONDS + 300)),
        "missing-exp": encode(good_claims(exp=None)),
        "missing-sub": encode(good_claims(sub=None)),
        "scope-not-a-string": encode(good_claims(scope=["demo:read"])),
        "garbage": "this-is-not-a-token",
        "three-garbage-parts": "abc.def.ghi",
        "empty-parts": "..",
    }


# What the refusal's logged reason names, to show that the intended check refused the
# token; the 401 itself says only one of the fixed texts (no library message).
REASONS = {
    "wrong-signature": "signature",
    "wrong-audience": "audience",
    "no-audience": '"aud"',
    "alg-none-by-hand": "algorithm",
    "alg-none-by-hand-admin": "algorithm",
    "alg-none-with-valid-signature": "algorithm",
    "alg-none-pyjwt": "algorithm",
    "alg-missing": "algorithm",
    "hs512-when-hs256-pinned": "algorithm",
    "tampered-payload": "signature",
    "expired-beyond-leeway": "expired",
    "not-yet-valid": "nbf",
    "missing-exp": '"exp"',
    "missing-sub": '"sub"',
    "scope-not-a-string": "scope",
    "garbage": "malformed",
    "three-garbage-parts": "malformed",
    "empty-parts": "malformed",
}


def test_every_forged_token_has_a_reason() -> None:
    assert set(forged_tokens()) == set(REASONS)


@pytest.mark.parametrize("name", sorted(REASONS))
def test_forged_or_broken_token_is_401(client: FlaskClient, name: str) -> None:
    token = forged_tokens()[name]
    body = assert_401(get_things(client, f"Bearer {token}"))
    assert body["detail"] in (INVALID, EXPIRED)
    with pytest.raises(TokenInvalid) as refused:
        TokenVerifier(SECRET).verify(token)
    assert REASONS[name] in refused.value.reason.lower()
    assert refused.value.detail == body["detail"]


def test_expired_token_says_so(client: FlaskClient) -> None:
    body = assert_401(get_things(client, f"Bearer {forged_tokens()['expired-beyond-leeway']}"))
    assert "expired" in body["detail"]


def test_alg_none_by_hand_is_unsigned() -> None:
    token = unsigned_by_hand(good_claims())
    assert token.endswith(".")
    assert jwt.get_unverified_header(token) == {"alg": "none", "typ": "JWT"}


def test_verifier_refuses_alg_none_directly() -> None:
    verifier = TokenVerifier(SECRET)
    with pytest.raises(TokenInvalid):
        verifier.verify(unsigned_by_hand(good_claims(scope="admin")))


def test_verifier_pinned_to_hs512_refuses_hs256() -> None:
    verifier = TokenVerifier(SECRET, algorithm="HS512")
    with pytest.raises(TokenInvalid):
        verifier.verify(mint_token(SECRET, "p1", "demo:read"))
    principal = verifier.verify(mint_token(SECRET, "p1", "demo:read", algorithm="HS512"))
    assert principal == Principal("p1", frozenset({"demo:read"}))


def test_verifier_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        TokenVerifier("")


def test_expired_within_leeway_is_accepted(client: FlaskClient) -> None:
    now = int(time.time())
    token = encode(good_claims(iat=now - 600, exp=now - 2))
    assert get_things(client, f"Bearer {token}").status_code == 200


def test_sub_that_is_not_a_string_is_401() -> None:
    # PyJWT itself may refuse to encode it; build it by hand, signed properly.
    header = b64url({"alg": "HS256", "typ": "at+jwt"})
    payload = b64url(good_claims(sub=42))
    signing_input = f"{header}.{payload}".encode()
    digest = hmac.new(SECRET.encode(), signing_input, hashlib.sha256).digest()
    token = f"{header}.{payload}." + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    with pytest.raises(TokenInvalid):
        TokenVerifier(SECRET).verify(token)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer    ",
        "Basic dXNlcjpwYXNz",
        "Token {token}",
        "{token}",
        "Bearer{token}",
    ],
    ids=[
        "missing-header",
        "empty-header",
        "bearer-alone",
        "bearer-space",
        "bearer-spaces",
        "basic",
        "token-scheme",
        "no-scheme",
        "no-space",
    ],
)
def test_missing_or_non_bearer_authorization_is_401(
    client: FlaskClient, authorization: str | None
) -> None:
    if authorization is not None:
        authorization = authorization.format(token=mint_token(SECRET, "p1", "demo:read"))
    assert_401(get_things(client, authorization))


def test_bearer_scheme_is_case_insensitive(client: FlaskClient) -> None:
    token = mint_token(SECRET, "p1", "demo:read")
    assert get_things(client, f"bearer {token}").status_code == 200
    assert get_things(client, f"BEARER {token}").status_code == 200


# --- scopes -------------------------------------------------------------------------------


def test_valid_token_without_the_scope_is_403(client: FlaskClient) -> None:
    response = get_things(client, f"Bearer {mint_token(SECRET, 'p1', 'demo:write other:read')}")
    assert response.status_code == 403
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json(force=True)
    assert body["status"] == 403
    assert body["title"] == "Forbidden"
    assert "WWW-Authenticate" not in response.headers


def test_valid_token_without_any_scope_is_403(client: FlaskClient) -> None:
    token = encode(good_claims(scope=None))
    assert get_things(client, f"Bearer {token}").status_code == 403


def test_valid_token_with_the_scope_is_200(client: FlaskClient) -> None:
    response = get_things(client, f"Bearer {mint_token(SECRET, 'p1', 'demo:read')}")
    assert response.status_code == 200
    assert response.get_json() == {"sub": "p1", "scopes": ["demo:read"]}


def test_admin_token_is_200(client: FlaskClient) -> None:
    response = get_things(client, f"Bearer {mint_token(SECRET, 'ops', 'admin')}")
    assert response.status_code == 200


def test_scope_names_match_exactly(client: FlaskClient) -> None:
    for scope in ("demo", "demo:reader", "DEMO:READ", "demo:read:extra", "administrator"):
        token = mint_token(SECRET, "p1", scope)
        assert get_things(client, f"Bearer {token}").status_code == 403, scope


def test_current_principal_needs_authentication(app: Flask) -> None:
    with app.test_request_context("/api/v1/things"):
        with pytest.raises(TokenInvalid):
            current_principal()


def test_mint_token_claims() -> None:
    before = int(time.time())
    token = mint_token(SECRET, "p9", "  demo:read   self ", ttl=120)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="booster")
    assert claims["sub"] == "p9"
    assert claims["scope"] == "demo:read self"
    assert claims["aud"] == "booster"
    assert claims["exp"] - claims["iat"] == 120
    assert before <= claims["iat"] <= int(time.time())
    assert (
        claims["jti"]
        != jwt.decode(
            mint_token(SECRET, "p9", "demo:read"), SECRET, algorithms=["HS256"], audience="booster"
        )["jti"]
    )


# --- Principal and self tokens ------------------------------------------------------------


def principal(scope: str, sub: str = "p1") -> Principal:
    return Principal(subject=sub, scopes=frozenset(scope.split()))


def test_allows() -> None:
    assert principal("demo:read").allows("demo:read")
    assert principal("demo:read").allows("demo:write", "demo:read")
    assert not principal("demo:read").allows("demo:write")
    assert not principal("demo:read").allows()
    assert principal("admin").allows("anything:at:all")
    assert principal("admin").allows()


def test_self_token_may_see_only_its_own_person() -> None:
    me = principal("self", sub="p1")
    assert me.may_see_person("p1", "registry:read")
    assert not me.may_see_person("p2", "registry:read")
    assert not me.may_see_person("", "registry:read")


def test_read_scope_may_see_any_person() -> None:
    reader = principal("registry:read", sub="client-a")
    assert reader.may_see_person("p1", "registry:read")
    assert reader.may_see_person("p2", "registry:read")
    assert not reader.may_see_person("p1", "mentoring:read")


def test_admin_may_see_any_person() -> None:
    assert principal("admin", sub="ops").may_see_person("p2", "registry:read")


def test_sub_alone_without_self_scope_sees_nothing() -> None:
    # Being person p1 is not enough: the token must hold ``self`` (or a read scope).
    assert not principal("events:read", sub="p1").may_see_person("p1", "registry:read")


def test_is_self_only() -> None:
    assert principal("self").is_self_only("registry:read")
    assert principal("self events:read").is_self_only("registry:read")
    assert not principal("self admin").is_self_only("registry:read")
    assert not principal("admin").is_self_only("registry:read")
    assert not principal("registry:read").is_self_only("registry:read")
    assert not principal("").is_self_only("registry:read")


def test_self_with_a_read_scope_is_not_self_only() -> None:
    both = principal("self registry:read")
    assert both.may_see_person("p2", "registry:read")
    assert not both.is_self_only("registry:read")


def test_self_token_reads_own_inbox_over_http(client: FlaskClient) -> None:
    token = mint_token(SECRET, "p1", "self")
    own = client.get("/api/v1/people/p1/inbox", headers={"Authorization": f"Bearer {token}"})
    assert own.status_code == 200
    assert own.get_json() == {"person": "p1", "self_only": True}
    other = client.get("/api/v1/people/p2/inbox", headers={"Authorization": f"Bearer {token}"})
    assert other.status_code == 403
    assert other.mimetype == PROBLEM_JSON


def test_read_scope_reads_any_inbox_over_http(client: FlaskClient) -> None:
    token = mint_token(SECRET, "client", "demo:read")
    response = client.get("/api/v1/people/p2/inbox", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json() == {"person": "p2", "self_only": False}


def test_self_token_cannot_use_routes_without_self(client: FlaskClient) -> None:
    token = mint_token(SECRET, "p1", "self")
    assert get_things(client, f"Bearer {token}").status_code == 403


# --- the ``booster token`` command --------------------------------------------------------


@pytest.fixture
def cli_env(cli_env: dict[str, str]) -> dict[str, str]:
    """The shared CLI environment, with this module's secret."""
    return {**cli_env, "BOOSTER_JWT_SECRET": SECRET}


def test_cli_token(cli_env: dict[str, str]) -> None:
    before = int(time.time())
    result = CliRunner().invoke(
        main, ["token", "--sub", "p1", "--scope", "registry:read self", "--ttl", "60"], env=cli_env
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.count(".") == 2
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="booster")
    assert claims["sub"] == "p1"
    assert claims["scope"] == "registry:read self"
    assert claims["aud"] == "booster"
    assert before + 60 <= claims["exp"] <= int(time.time()) + 60
    principal = TokenVerifier(SECRET).verify(token)
    assert principal.scopes == {"registry:read", "self"}
    assert principal.may_see_person("p2", "registry:read")


def test_cli_token_works_against_a_service(cli_env: dict[str, str], app: Flask) -> None:
    result = CliRunner().invoke(main, ["token", "--sub", "p1", "--scope", "demo:read"], env=cli_env)
    assert result.exit_code == 0, result.output
    response = get_things(app.test_client(), f"Bearer {result.stdout.strip()}")
    assert response.status_code == 200


def test_cli_token_honours_audience_and_algorithm(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "BOOSTER_JWT_AUDIENCE": "partners", "BOOSTER_JWT_ALGORITHM": "HS512"}
    result = CliRunner().invoke(main, ["token", "--sub", "c", "--scope", "admin"], env=env)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert jwt.get_unverified_header(token)["alg"] == "HS512"
    assert jwt.decode(token, SECRET, algorithms=["HS512"], audience="partners")["sub"] == "c"


@pytest.mark.parametrize("ttl", ["0", "-5", "soon"])
def test_cli_token_refuses_a_bad_ttl(cli_env: dict[str, str], ttl: str) -> None:
    result = CliRunner().invoke(
        main, ["token", "--sub", "p1", "--scope", "self", "--ttl", ttl], env=cli_env
    )
    assert result.exit_code == 2
    assert "--ttl" in result.output


def test_cli_token_needs_sub_and_scope(cli_env: dict[str, str]) -> None:
    assert CliRunner().invoke(main, ["token", "--scope", "self"], env=cli_env).exit_code == 2
    assert CliRunner().invoke(main, ["token", "--sub", "p1"], env=cli_env).exit_code == 2


def test_cli_token_without_secret_uses_the_local_one(cli_env: dict[str, str]) -> None:
    env = {key: value for key, value in cli_env.items() if key != "BOOSTER_JWT_SECRET"}
    result = CliRunner().invoke(main, ["token", "--sub", "p1", "--scope", "self"], env=env)
    assert result.exit_code == 0, result.output
    secret_file = Path(env["BOOSTER_VAR_DIR"]) / "jwt_secret"
    local_secret = secret_file.read_text().strip()
    assert (secret_file.stat().st_mode & 0o777) == 0o600
    claims = jwt.decode(
        result.stdout.strip(), local_secret, algorithms=["HS256"], audience="booster"
    )
    assert claims["sub"] == "p1"


def test_cli_token_refuses_a_short_secret_in_production(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "BOOSTER_ENV": "production", "BOOSTER_JWT_SECRET": "short"}
    result = CliRunner().invoke(main, ["token", "--sub", "p1", "--scope", "self"], env=env)
    assert result.exit_code == 1
    assert "BOOSTER_JWT_SECRET" in result.output
    assert "short" not in result.stdout
