"""Minimal JWT reading and RS256 verification against a JWKS, for checking the test tooling itself.

Standard library only: RSASSA-PKCS1-v1_5 with SHA-256 is a modular exponentiation and a compare.
Not for production use (no constant-time compare, RS256 only).
"""

import base64
import hashlib
import json

# DER prefix of a DigestInfo for SHA-256 (RFC 8017, section 9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def claims(jwt: str) -> dict:
    return json.loads(b64url_decode(jwt.split(".")[1]))


def header(jwt: str) -> dict:
    return json.loads(b64url_decode(jwt.split(".")[0]))


def verify_rs256(jwt: str, jwks: dict) -> bool:
    """True when the JWT's RS256 signature verifies with the JWKS key named by its kid."""
    head, payload, signature = jwt.split(".")
    kid = header(jwt).get("kid")
    keys = [k for k in jwks["keys"] if k.get("kid") == kid and k.get("kty") == "RSA"]
    if not keys or header(jwt).get("alg") != "RS256":
        return False
    n = int.from_bytes(b64url_decode(keys[0]["n"]), "big")
    e = int.from_bytes(b64url_decode(keys[0]["e"]), "big")
    size = (n.bit_length() + 7) // 8

    sig = int.from_bytes(b64url_decode(signature), "big")
    if sig >= n:
        return False
    encoded = pow(sig, e, n).to_bytes(size, "big")

    digest = hashlib.sha256(f"{head}.{payload}".encode()).digest()
    suffix = b"\x00" + SHA256_DIGEST_INFO + digest
    expected = b"\x00\x01" + b"\xff" * (size - 2 - len(suffix)) + suffix
    return encoded == expected
