"""Tokens: lifetime, issuer, subject, type and secret strength; asymmetric signatures
(EdDSA, RS256) verified through a JWKS (file or URL) with rotation by ``kid``; an HS256
token refused in asymmetric mode; 401 texts that echo no library message."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.views import MethodView
from flask_smorest import Blueprint

from booster.cli import main
from shared.auth import (
    EXPIRED,
    INVALID,
    MISSING,
    TokenInvalid,
    TokenIssuer,
    TokenVerifier,
    current_principal,
    mint_token,
    requires,
)
from shared.config import DEFAULT_JWT_MAX_TTL, ConfigError, Settings, secret_weakness
from shared.http.app import create_service_app
from shared.keys import (
    KeyProblem,
    KeySet,
    add_key,
    generate_private_key,
    public_jwk,
    read_jwks,
    remove_key,
    write_jwks,
    write_private_key,
)
from tests.conftest import TEST_SECRET

SECRET = TEST_SECRET
SERVICES = ("registry", "mentoring", "events", "notifications")


def blueprint() -> Blueprint:
    bp = Blueprint("things", __name__, url_prefix="/api/v1")

    @bp.route("/things")
    class Things(MethodView):
        @requires("demo:read")
        @bp.response(200)
        def get(self) -> dict[str, Any]:
            return {"sub": current_principal().subject}

    return bp


def app_for(settings: Settings) -> Flask:
    return create_service_app("demo", settings, blueprints=[blueprint()])


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    found: dict[str, Any] = {
        "iss": "booster",
        "sub": "p1",
        "scope": "demo:read",
        "aud": "booster",
        "iat": now,
        "exp": now + 300,
    }
    found.update(changes)
    return {key: value for key, value in found.items() if value is not None}


def signed(body: dict[str, Any], key: Any = SECRET, algorithm: str = "HS256", **header: Any) -> str:
    return jwt.encode(body, key, algorithm=algorithm, headers={"typ": "at+jwt", **header})


def hmac_signed(body: dict[str, Any], key: bytes, kid: str) -> str:
    """HS256 by hand (PyJWT refuses to use a public key as an HMAC secret)."""
    header = {"alg": "HS256", "typ": "at+jwt", "kid": kid}
    signing_input = f"{b64url(header)}.{b64url(body)}".encode()
    digest = hmac.new(key, signing_input, hashlib.sha256).digest()
    return signing_input.decode() + "." + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def status_of(app: Flask, token: str) -> tuple[int, dict[str, Any]]:
    response = app.test_client().get("/api/v1/things", headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.get_json(force=True)


@pytest.fixture
def hs_app(settings: Settings) -> Flask:
    return app_for(settings)


# --- claims --------------------------------------------------------------------------


def test_a_valid_token_passes(hs_app: Flask) -> None:
    assert status_of(hs_app, signed(claims()))[0] == 200


@pytest.mark.parametrize(
    ("name", "body", "header", "reason"),
    [
        ("100-years", {"exp": int(time.time()) + 100 * 365 * 86400}, {}, "lifetime"),
        ("13-hours", {"exp": int(time.time()) + 13 * 3600}, {}, "lifetime"),
        ("backdated-iat", {"iat": int(time.time()) - 13 * 3600}, {}, "lifetime"),
        ("no-iat", {"iat": None}, {}, '"iat"'),
        ("no-iss", {"iss": None}, {}, '"iss"'),
        ("wrong-iss", {"iss": "someone-else"}, {}, "issuer"),
        ("empty-sub", {"sub": ""}, {}, "sub"),
        ("blank-sub", {"sub": "   "}, {}, "sub"),
        ("typ-jwt", {}, {"typ": "JWT"}, "type"),
        ("typ-id-token", {}, {"typ": "id+jwt"}, "type"),
    ],
)
def test_refused_claims(
    hs_app: Flask, name: str, body: dict[str, Any], header: dict[str, Any], reason: str
) -> None:
    token = signed(claims(**body), **header)
    status, problem = status_of(hs_app, token)
    assert status == 401, name
    assert problem["detail"] == INVALID
    with pytest.raises(TokenInvalid) as refused:
        TokenVerifier(SECRET).verify(token)
    assert reason in refused.value.reason


def test_a_token_without_typ_is_refused(hs_app: Flask) -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256", headers={"typ": None})
    assert "typ" not in jwt.get_unverified_header(token)
    assert status_of(hs_app, token)[0] == 401


def test_the_maximum_lifetime_is_accepted_and_configurable(settings: Settings) -> None:
    now = int(time.time())
    token = signed(claims(iat=now, exp=now + DEFAULT_JWT_MAX_TTL))
    assert status_of(app_for(settings), token)[0] == 200
    shorter = app_for(settings.with_overrides(jwt_max_ttl=600))
    assert status_of(shorter, token)[0] == 401
    assert status_of(shorter, signed(claims(iat=now, exp=now + 600)))[0] == 200


def test_the_issuer_is_configurable(settings: Settings) -> None:
    app = app_for(settings.with_overrides(jwt_issuer="https://issuer.example.org"))
    assert status_of(app, signed(claims()))[0] == 401  # "booster" is not it
    assert status_of(app, signed(claims(iss="https://issuer.example.org")))[0] == 200


def test_401_texts_are_fixed_and_echo_no_library_message(hs_app: Flask) -> None:
    client = hs_app.test_client()
    texts = set()
    for authorization in (
        None,
        "Bearer x.y.z",
        f"Bearer {signed(claims(), 'another-secret-that-is-long-enough-0123456789')}",
        f"Bearer {signed(claims(aud='elsewhere'))}",
        f"Bearer {signed(claims(iat=int(time.time()) - 900, exp=int(time.time()) - 300))}",
    ):
        headers = {"Authorization": authorization} if authorization else {}
        response = client.get("/api/v1/things", headers=headers)
        assert response.status_code == 401
        body = response.get_data(as_text=True)
        for library_word in ("Signature", "Audience", "verification", "decode", "segments"):
            assert library_word not in body
        texts.add(response.get_json()["detail"])
    assert texts == {MISSING, INVALID, EXPIRED}


# --- secret strength, in every environment ------------------------------------------


WEAK = {
    "1-byte": "x",
    "31-bytes": "abcdefghijklmnopqrstuvwxyz01234",
    "32-spaces": " " * 32,
    "100-x": "x" * 100,
    "two-characters": "ab" * 32,
}


@pytest.mark.parametrize("name", sorted(WEAK))
@pytest.mark.parametrize("environment", ["development", "test", "production"])
def test_weak_secrets_are_refused_everywhere(tmp_path: Path, name: str, environment: str) -> None:
    env = {
        "BOOSTER_VAR_DIR": str(tmp_path),
        "BOOSTER_ENV": environment,
        "BOOSTER_JWT_SECRET": WEAK[name],
        "BOOSTER_JWT_ISSUER": "booster",
    }
    with pytest.raises(ConfigError, match="BOOSTER_JWT_SECRET") as refused:
        Settings.from_env(env, services=SERVICES)
    assert len(WEAK[name]) < 4 or WEAK[name] not in str(refused.value)
    assert secret_weakness(WEAK[name]) is not None
    with pytest.raises(ValueError, match="secret"):
        TokenVerifier(WEAK[name])


def test_a_weak_local_secret_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "jwt_secret").write_text("x" * 40)
    with pytest.raises(ConfigError, match="jwt_secret"):
        Settings.from_env({"BOOSTER_VAR_DIR": str(tmp_path)}, services=SERVICES)


def test_the_generated_development_secret_is_strong_and_private(tmp_path: Path) -> None:
    settings = Settings.from_env({"BOOSTER_VAR_DIR": str(tmp_path)}, services=SERVICES)
    assert secret_weakness(settings.jwt_secret) is None
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o777 == 0o600


def test_production_needs_an_explicit_issuer(tmp_path: Path) -> None:
    env = {"BOOSTER_VAR_DIR": str(tmp_path), "BOOSTER_ENV": "production"}
    with pytest.raises(ConfigError, match="BOOSTER_JWT_ISSUER"):
        Settings.from_env({**env, "BOOSTER_JWT_SECRET": SECRET}, services=SERVICES)


# --- booster token --------------------------------------------------------------------


def test_booster_token_refuses_a_lifetime_beyond_the_maximum(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        main, ["token", "--sub", "p1", "--scope", "self", "--ttl", "43201"], env=cli_env
    )
    assert result.exit_code == 2
    assert "BOOSTER_JWT_MAX_TTL" in result.output
    env = {**cli_env, "BOOSTER_JWT_MAX_TTL": "60"}
    refused = CliRunner().invoke(
        main, ["token", "--sub", "p1", "--scope", "self", "--ttl", "61"], env=env
    )
    assert refused.exit_code == 2


def test_booster_token_refuses_a_blank_subject(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["token", "--sub", "  ", "--scope", "self"], env=cli_env)
    assert result.exit_code == 2


def test_booster_token_mints_what_the_services_accept(
    cli_env: dict[str, str], settings: Settings
) -> None:
    env = {**cli_env, "BOOSTER_JWT_ISSUER": "https://issuer.example.org"}
    result = CliRunner().invoke(main, ["token", "--sub", "p1", "--scope", "demo:read"], env=env)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    app = app_for(settings.with_overrides(jwt_issuer="https://issuer.example.org"))
    assert status_of(app, token) == (200, {"sub": "p1"})


# --- asymmetric tokens ------------------------------------------------------------------


@pytest.fixture(params=["EdDSA", "RS256"])
def keys(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """An issuer's private key (file) and the JWKS file every service reads."""
    algorithm = request.param
    key = generate_private_key(algorithm)
    private, jwks = tmp_path / "issuer" / "signing.pem", tmp_path / "jwks.json"
    write_private_key(private, key)
    write_jwks(jwks, add_key(read_jwks(jwks), public_jwk(key)))
    return {"algorithm": algorithm, "key": key, "private": private, "jwks": jwks}


def asymmetric(settings: Settings, keys: dict[str, Any], **changes: Any) -> Settings:
    return settings.with_overrides(
        **{
            "jwt_secret": "",
            "jwt_algorithm": keys["algorithm"],
            "jwt_jwks": str(keys["jwks"]),
            **changes,
        }
    )


def test_an_asymmetric_token_verifies_through_the_jwks(
    settings: Settings, keys: dict[str, Any]
) -> None:
    service = asymmetric(settings, keys)
    issuer = TokenIssuer.from_settings(asymmetric(settings, keys, jwt_private_key=keys["private"]))
    token = issuer.mint("p1", "demo:read")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == keys["algorithm"] and header["kid"] == public_jwk(keys["key"])["kid"]
    assert status_of(app_for(service), token) == (200, {"sub": "p1"})


def test_a_service_holds_no_signing_key(settings: Settings, keys: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="BOOSTER_JWT_PRIVATE_KEY"):
        TokenIssuer.from_settings(asymmetric(settings, keys))
    json_text = keys["jwks"].read_text()
    assert '"d"' not in json_text  # the JWKS holds public keys only
    assert keys["private"].stat().st_mode & 0o777 == 0o600


def test_hs256_tokens_are_refused_in_asymmetric_mode(
    settings: Settings, keys: dict[str, Any]
) -> None:
    app = app_for(asymmetric(settings, keys))
    kid = public_jwk(keys["key"])["kid"]
    assert status_of(app, signed(claims(), SECRET, kid=kid)) == (401, status_of(app, "x")[1])
    assert status_of(app, "x")[1]["detail"] == INVALID
    # the classic confusion: HS256 with the public key itself as the HMAC secret
    public = (
        keys["key"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert status_of(app, hmac_signed(claims(), public, kid))[0] == 401
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"typ": "at+jwt", "kid": kid})
    assert status_of(app, unsigned)[0] == 401


def test_a_token_of_an_unknown_key_or_without_kid_is_refused(
    settings: Settings, keys: dict[str, Any]
) -> None:
    app = app_for(asymmetric(settings, keys))
    stranger = generate_private_key(keys["algorithm"])
    kid = public_jwk(stranger)["kid"]
    assert status_of(app, signed(claims(), stranger, keys["algorithm"], kid=kid))[0] == 401
    assert status_of(app, signed(claims(), keys["key"], keys["algorithm"]))[0] == 401
    # a known kid does not make another key's signature valid
    known = public_jwk(keys["key"])["kid"]
    assert status_of(app, signed(claims(), stranger, keys["algorithm"], kid=known))[0] == 401


def test_keys_rotate_by_kid(settings: Settings, keys: dict[str, Any], tmp_path: Path) -> None:
    algorithm = keys["algorithm"]
    old = mint_token(
        keys["key"], "p1", "demo:read", algorithm=algorithm, kid=public_jwk(keys["key"])["kid"]
    )
    new_key = generate_private_key(algorithm)
    new_kid = public_jwk(new_key)["kid"]
    new = mint_token(new_key, "p2", "demo:read", algorithm=algorithm, kid=new_kid)
    verifier = TokenVerifier(
        KeySet(str(keys["jwks"]), algorithm, min_refresh=0), algorithm=algorithm
    )
    assert verifier.verify(old).subject == "p1"
    with pytest.raises(TokenInvalid):
        verifier.verify(new)  # not published yet
    write_jwks(keys["jwks"], add_key(read_jwks(keys["jwks"]), public_jwk(new_key)))
    assert verifier.verify(new).subject == "p2"  # re-read for the unknown kid
    assert verifier.verify(old).subject == "p1"  # both while the old tokens live
    write_jwks(keys["jwks"], remove_key(read_jwks(keys["jwks"]), public_jwk(keys["key"])["kid"]))
    verifier = TokenVerifier(KeySet(str(keys["jwks"]), algorithm), algorithm=algorithm)
    with pytest.raises(TokenInvalid):
        verifier.verify(old)
    assert verifier.verify(new).subject == "p2"


def test_an_unknown_kid_rereads_the_set_at_most_every_so_often(
    keys: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    key_set = KeySet(str(keys["jwks"]), keys["algorithm"], min_refresh=3600)
    reads = []
    original = KeySet._read

    def counting(self: KeySet) -> bytes:
        reads.append(1)
        return original(self)

    monkeypatch.setattr(KeySet, "_read", counting)
    for _ in range(50):
        assert key_set.key("forged-kid-that-does-not-exist") is None
    assert len(reads) == 1


def test_a_jwks_with_a_private_key_is_refused(keys: dict[str, Any], tmp_path: Path) -> None:
    jwk = {**public_jwk(keys["key"]), "d": "c2VjcmV0"}
    path = tmp_path / "leaky.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    with pytest.raises(KeyProblem, match="private"):
        KeySet(str(path), keys["algorithm"]).kids()


@pytest.fixture
def jwks_url(keys: dict[str, Any]) -> Iterator[str]:
    """The JWKS served over HTTP, as an issuer would publish it."""
    body = keys["jwks"].read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_jwks_url_is_read(settings: Settings, keys: dict[str, Any], jwks_url: str) -> None:
    app = app_for(asymmetric(settings, keys, jwt_jwks=jwks_url))
    kid = public_jwk(keys["key"])["kid"]
    token = mint_token(keys["key"], "p1", "demo:read", algorithm=keys["algorithm"], kid=kid)
    assert status_of(app, token) == (200, {"sub": "p1"})


def test_asymmetric_configuration(tmp_path: Path, keys: dict[str, Any]) -> None:
    base = {
        "BOOSTER_VAR_DIR": str(tmp_path / "var"),
        "BOOSTER_JWT_ALGORITHM": keys["algorithm"],
        "BOOSTER_JWT_JWKS": str(keys["jwks"]),
    }
    settings = Settings.from_env(base, services=SERVICES)
    assert settings.asymmetric_tokens and settings.jwt_secret == ""
    assert not (tmp_path / "var" / "jwt_secret").exists()  # no shared secret is made
    with pytest.raises(ConfigError, match="BOOSTER_JWT_SECRET must not be set"):
        Settings.from_env({**base, "BOOSTER_JWT_SECRET": SECRET}, services=SERVICES)
    with pytest.raises(ConfigError, match="BOOSTER_JWT_JWKS is required"):
        Settings.from_env({**base, "BOOSTER_JWT_JWKS": ""}, services=SERVICES)
    with pytest.raises(ConfigError, match="no such file"):
        Settings.from_env({**base, "BOOSTER_JWT_JWKS": str(tmp_path / "nope")}, services=SERVICES)
    production = {**base, "BOOSTER_ENV": "production", "BOOSTER_JWT_ISSUER": "booster"}
    with pytest.raises(ConfigError, match="https"):
        Settings.from_env(
            {**production, "BOOSTER_JWT_JWKS": "http://issuer/jwks.json"}, services=SERVICES
        )


def test_booster_keys_and_token_in_asymmetric_mode(
    cli_env: dict[str, str], tmp_path: Path, settings: Settings
) -> None:
    private, jwks = tmp_path / "issuer" / "key.pem", tmp_path / "public" / "jwks.json"
    runner = CliRunner()
    generated = runner.invoke(
        main, ["keys", "generate", "--private-key", str(private), "--jwks", str(jwks)], env=cli_env
    )
    assert generated.exit_code == 0, generated.output
    kid = generated.stdout.strip()
    again = runner.invoke(
        main, ["keys", "generate", "--private-key", str(private), "--jwks", str(jwks)], env=cli_env
    )
    assert again.exit_code == 1 and "never overwritten" in again.output
    env = {key: value for key, value in cli_env.items() if key != "BOOSTER_JWT_SECRET"} | {
        "BOOSTER_JWT_ALGORITHM": "EdDSA",
        "BOOSTER_JWT_JWKS": str(jwks),
        "BOOSTER_JWT_PRIVATE_KEY": str(private),
    }
    minted = runner.invoke(main, ["token", "--sub", "p1", "--scope", "demo:read"], env=env)
    assert minted.exit_code == 0, minted.output
    token = minted.stdout.strip()
    assert jwt.get_unverified_header(token)["kid"] == kid
    service = settings.with_overrides(jwt_secret="", jwt_algorithm="EdDSA", jwt_jwks=str(jwks))
    assert status_of(app_for(service), token) == (200, {"sub": "p1"})
    without_key = {k: v for k, v in env.items() if k != "BOOSTER_JWT_PRIVATE_KEY"}
    refused = runner.invoke(main, ["token", "--sub", "p1", "--scope", "x"], env=without_key)
    assert refused.exit_code == 1 and "BOOSTER_JWT_PRIVATE_KEY" in refused.output
    removed = runner.invoke(main, ["keys", "remove", kid, "--jwks", str(jwks)], env=cli_env)
    assert removed.exit_code == 0, removed.output
    assert status_of(app_for(service), token)[0] == 401
