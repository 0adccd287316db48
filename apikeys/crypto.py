"""API key format, generation and verification.

A key reads `pk_live_<ULID><secret><checksum>`:

- the ULID (26 chars) is the key's public id (`key_<ULID>`), the indexed lookup part;
- the secret is 32 base62 characters from `secrets` (~190 bits);
- the checksum is CRC32 of everything before it, as 6 base62 characters (as GitHub's tokens
  do): a typo or a truncated paste is rejected without touching the database, and a leaked key
  can be recognised offline by scanners.

Only HMAC-SHA-256(API_KEY_PEPPER, secret) is stored. A fast keyed hash is right here and a
password hasher would be wrong: the secret has ~190 random bits, so no dictionary or brute
force applies, while a slow hash on every request would cost milliseconds of CPU per call. The
pepper (not SECRET_KEY) means a stolen database dump alone cannot verify guesses, and rotating
SECRET_KEY does not break keys.
"""

import hmac
import re
import secrets
import zlib
from dataclasses import dataclass

from django.conf import settings
from ulid import ULID

from parsalink.core.bearer import API_KEY_NAMESPACE

KEY_PREFIX = f"{API_KEY_NAMESPACE}live_"
SECRET_LENGTH = 32
CHECKSUM_LENGTH = 6
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY_LENGTH = len(KEY_PREFIX) + 26 + SECRET_LENGTH + CHECKSUM_LENGTH

# ULIDs are Crockford base32, and the first character is at most 7 (128-bit value).
_KEY_RE = re.compile(
    rf"{KEY_PREFIX}([0-7][0-9A-HJKMNP-TV-Z]{{25}})([0-9A-Za-z]{{{SECRET_LENGTH}}})"
    rf"([0-9A-Za-z]{{{CHECKSUM_LENGTH}}})"
)


@dataclass(frozen=True, slots=True)
class NewKey:
    key_id: str
    plain: str
    secret_hash: str
    last_four: str


@dataclass(frozen=True, slots=True)
class ParsedKey:
    key_id: str
    secret: str


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


def checksum(body: str) -> str:
    """Six base62 characters of CRC32(body): 62**6 > 2**32, so no information is lost."""
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def hash_secret(secret: str) -> str:
    """HMAC-SHA-256(API_KEY_PEPPER, secret) in hex (one-shot OpenSSL HMAC: ~2 µs)."""
    return hmac.digest(settings.API_KEY_PEPPER.encode(), secret.encode("ascii"), "sha256").hex()


def generate() -> NewKey:
    """A fresh key: its id, the plain key (shown once), and what is stored."""
    ulid = str(ULID())
    secret = "".join(secrets.choice(BASE62) for _ in range(SECRET_LENGTH))
    body = f"{KEY_PREFIX}{ulid}{secret}"
    plain = body + checksum(body)
    return NewKey(
        key_id=f"key_{ulid}", plain=plain, secret_hash=hash_secret(secret), last_four=plain[-4:]
    )


def parse(raw: str) -> ParsedKey | None:
    """The key's id and secret, or None for a malformed key or a wrong checksum (no DB work)."""
    if len(raw) != KEY_LENGTH:
        return None
    match = _KEY_RE.fullmatch(raw)
    if match is None:
        return None
    ulid, secret, check = match.groups()
    if not hmac.compare_digest(checksum(raw[:-CHECKSUM_LENGTH]), check):
        return None
    return ParsedKey(key_id=f"key_{ulid}", secret=secret)


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of the secret's keyed hash with the stored one."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def display_prefix(key_id: str, last_four: str) -> str:
    """`pk_live_01HX…abcd`: enough to recognise a key, useless to an attacker."""
    return f"{KEY_PREFIX}{key_id[4:8]}…{last_four}"
