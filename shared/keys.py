"""Signing keys of asymmetric tokens (EdDSA or RS256) and the JWKS that publishes them.

The issuer (``booster token``, or whoever mints tokens) holds a private key; every
service holds only the public keys, as a JSON Web Key Set (RFC 7517) in a file or at a
URL. Each key's ``kid`` is its RFC 7638 thumbprint, so a token names the key that
verifies it, and keys rotate by adding the new public key to the set, signing with the
new private key, and removing the old public key once the longest token lifetime has
passed. A service re-reads the set when a token names a ``kid`` it does not know.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt import PyJWK
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm
from jwt.exceptions import PyJWKError

PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | rsa.RSAPublicKey
ALGORITHMS = ("EdDSA", "RS256")
RSA_BITS = 3072
MAX_JWKS_BYTES = 64 * 1024
FETCH_TIMEOUT = 3.0
MIN_REFRESH_SECONDS = 30.0
"""A set is re-read for an unknown ``kid`` at most this often (a forged ``kid`` on
every request must not turn into a fetch per request)."""
_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}


class KeyProblem(ValueError):
    """A key or key set that cannot be used; the message says why."""


def generate_private_key(algorithm: str) -> PrivateKey:
    """A new signing key for ``algorithm`` (Ed25519 for EdDSA, 3072-bit RSA for RS256)."""
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    raise KeyProblem(f"no asymmetric algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}")


def algorithm_of(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    return "RS256"


def public_jwk(key: PrivateKey | PublicKey) -> dict[str, str]:
    """The public half of ``key`` as a JWK with its ``kid``, ``alg`` and ``use``."""
    public: PublicKey = (
        key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) else key
    )
    if isinstance(public, ed25519.Ed25519PublicKey):
        jwk: dict[str, str] = OKPAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    jwk = {name: value for name, value in jwk.items() if name in ("kty", "crv", "x", "n", "e")}
    return {**jwk, "kid": thumbprint(jwk), "alg": algorithm_of(public), "use": "sig"}


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK, base64url without padding."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None:
        raise KeyProblem(f"no thumbprint for key type {jwk.get('kty')!r}")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def write_private_key(path: Path, key: PrivateKey) -> None:
    """Write ``key`` as unencrypted PKCS#8 PEM to a new file of mode 0600."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def load_private_key(path: Path) -> tuple[PrivateKey, str]:
    """The signing key in ``path`` (PEM) and its ``kid``."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise KeyProblem(f"cannot read a private key from {path}: {type(exc).__name__}") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        raise KeyProblem(f"{path}: an Ed25519 or RSA private key is needed")
    return key, public_jwk(key)["kid"]


def read_jwks(path: Path) -> dict[str, Any]:
    """The key set in ``path`` (an empty one if the file does not exist)."""
    if not path.exists():
        return {"keys": []}
    return parse_jwks(path.read_bytes())


def write_jwks(path: Path, jwks: Mapping[str, Any]) -> None:
    """Replace ``path`` with ``jwks`` in one step (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".new")
    partial.write_text(json.dumps(jwks, indent=2) + "\n")
    partial.chmod(0o644)  # public keys: every service reads them
    partial.replace(path)


def add_key(jwks: Mapping[str, Any], jwk: Mapping[str, Any]) -> dict[str, Any]:
    """``jwks`` with ``jwk`` added (replacing a key with the same ``kid``)."""
    keys = [key for key in jwks.get("keys", []) if key.get("kid") != jwk["kid"]]
    return {"keys": [*keys, dict(jwk)]}


def remove_key(jwks: Mapping[str, Any], kid: str) -> dict[str, Any]:
    """``jwks`` without the key ``kid``; :class:`KeyProblem` if it has no such key."""
    keys = [key for key in jwks.get("keys", []) if key.get("kid") != kid]
    if len(keys) == len(jwks.get("keys", [])):
        raise KeyProblem(f"the key set has no key {kid!r}")
    return {"keys": keys}


def parse_jwks(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_JWKS_BYTES:
        raise KeyProblem(f"a key set larger than {MAX_JWKS_BYTES} bytes")
    try:
        jwks = json.loads(raw)
    except ValueError:
        raise KeyProblem("the key set is not JSON") from None
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise KeyProblem('a key set is a JSON object with a "keys" list')
    return jwks


def public_keys(jwks: Mapping[str, Any], algorithm: str) -> dict[str, PublicKey]:
    """The set's public keys for ``algorithm`` by ``kid`` (private members are refused)."""
    found: dict[str, PublicKey] = {}
    for entry in jwks.get("keys", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if "d" in entry:
            raise KeyProblem(f"key {entry['kid']!r} is a private key: publish public keys only")
        if entry.get("alg", algorithm) != algorithm or entry.get("use", "sig") != "sig":
            continue
        try:
            key = PyJWK(entry, algorithm).key
        except PyJWKError:
            continue
        if isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
            found[entry["kid"]] = key
    return found


class KeySet:
    """The public keys that verify tokens, from a JWKS file or URL, by ``kid``.

    Read once at first use; read again (at most every ``min_refresh`` seconds) when a
    token names an unknown ``kid``, so a key added to the set is used without a restart.
    """

    def __init__(
        self, source: str, algorithm: str, *, min_refresh: float = MIN_REFRESH_SECONDS
    ) -> None:
        self.source = source
        self.algorithm = algorithm
        self.min_refresh = min_refresh
        self._keys: dict[str, PublicKey] = {}
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> PublicKey | None:
        """The public key ``kid``, or None if the set (re-read if due) has none."""
        with self._lock:
            if kid not in self._keys and self._due():
                self._load()
            return self._keys.get(kid)

    def kids(self) -> frozenset[str]:
        with self._lock:
            if self._loaded_at is None:
                self._load()
            return frozenset(self._keys)

    def _due(self) -> bool:
        return self._loaded_at is None or time.monotonic() - self._loaded_at >= self.min_refresh

    def _load(self) -> None:
        self._loaded_at = time.monotonic()
        self._keys = public_keys(parse_jwks(self._read()), self.algorithm)

    def _read(self) -> bytes:
        if self.source.startswith(("http://", "https://")):
            request = urllib.request.Request(self.source, headers={"Accept": "application/json"})
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
                data: bytes = response.read(MAX_JWKS_BYTES + 1)
                return data
        return Path(self.source).read_bytes()
