"""Encoding and validating our JWTs (simplejwt's backend: HS256, issuer checked, no leeway).

Every jti is a ULID, so a token carries its issue time to the millisecond; that is what the
user's `tokens_valid_after` is compared with (`iat` has only whole seconds). Access tokens carry
their login session's id as `sid`: authentication accepts them only while that session is live.
"""

import functools
import time
from dataclasses import dataclass

import jwt
from django.conf import settings
from rest_framework_simplejwt.state import token_backend
from ulid import ULID

from parsalink.core.errors import AppError

ACCESS = "access"
REFRESH = "refresh"
# 9999-12-31T23:59:59Z: a later expiry is no time a datetime can hold (simplejwt refuses it).
_LATEST_EXP = 253402300799


class InvalidToken(AppError):
    """A token that is forged, expired, of the wrong type or malformed; always a 401."""

    status_code = 401
    code = "token_not_valid"
    detail = "Token is invalid or expired."

    @property
    def message(self) -> str:
        return self.detail


@dataclass(frozen=True, slots=True)
class TokenPair:
    access: str
    refresh: str


@dataclass(frozen=True, slots=True)
class Claims:
    user_id: str
    jti: str
    issued_ms: int
    exp: int
    session_id: str | None = None


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_jti(at_ms: int) -> str:
    return str(ULID.from_timestamp(at_ms))  # an int is milliseconds to python-ulid


def encode_pair(
    *,
    user_id: str,
    session_id: str,
    issued_at: int,
    access_jti: str,
    refresh_jti: str,
    refresh_exp: int,
) -> TokenPair:
    """Sign a pair from its claims; the same claims always give the same bytes (HS256)."""
    access_exp = issued_at + settings.JWT_ACCESS_TOKEN_LIFETIME
    access = token_backend.encode(
        {
            "token_type": ACCESS,
            "exp": access_exp,
            "iat": issued_at,
            "jti": access_jti,
            "user_id": user_id,
            "sid": session_id,
        }
    )
    refresh = token_backend.encode(
        {
            "token_type": REFRESH,
            "exp": refresh_exp,
            "iat": issued_at,
            "jti": refresh_jti,
            "user_id": user_id,
        }
    )
    return TokenPair(access=access, refresh=refresh)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _claims(payload: dict) -> Claims:
    user_id, jti, iat, exp = (payload.get(k) for k in ("user_id", "jti", "iat", "exp"))
    session_id = payload.get("sid")
    if not isinstance(user_id, str) or not isinstance(jti, str):
        raise InvalidToken()
    if session_id is not None and not isinstance(session_id, str):
        raise InvalidToken()
    if not _is_int(iat) or not _is_int(exp) or exp > _LATEST_EXP:
        raise InvalidToken()
    try:
        issued_ms = ULID.from_str(jti).milliseconds
    except ValueError:
        raise InvalidToken() from None
    # We sign jti and iat from the same instant. A jti time that disagrees with iat (e.g. one in
    # the future, which would outlive logout-all) is not a token we issued.
    if issued_ms // 1000 != iat:
        raise InvalidToken()
    return Claims(user_id=user_id, jti=jti, issued_ms=issued_ms, exp=exp, session_id=session_id)


@functools.lru_cache(maxsize=2048)
def _signed_payload(raw: str, key: str, algorithm: str, issuer: str | None) -> dict:
    """The payload of a token whose signature, algorithm, issuer and required claims check out;
    never mutated. Kept per process: a client presents the same access token for up to an hour,
    so its signature is verified once, not on every request (failures are not kept). The
    time-bound claims are checked by decode() on every use."""
    return jwt.decode(
        raw,
        key,
        algorithms=[algorithm],
        issuer=issuer,
        options={
            "verify_aud": False,
            "verify_exp": False,
            "verify_iat": False,
            "verify_nbf": False,
            "require": ["exp", "jti", "iss"],
        },
    )


def _check_times(payload: dict) -> None:
    """PyJWT's exp, iat and nbf checks (with the backend's leeway), against the clock now."""
    now = time.time()
    leeway = token_backend.get_leeway().total_seconds()
    if int(payload["exp"]) <= now - leeway:
        raise InvalidToken("Token is expired")
    for claim in ("iat", "nbf"):
        if claim in payload and int(payload[claim]) > now + leeway:
            raise InvalidToken("Token is invalid")


def decode(raw: str, token_type: str) -> Claims:
    """Validate signature, issuer, expiry and type; raise InvalidToken for anything wrong.

    The checks of simplejwt's AccessToken (its backend's key, algorithm, issuer and leeway,
    then exp, jti and token_type), made by PyJWT directly, the signature once per token.
    """
    try:
        payload = _signed_payload(
            raw, token_backend.get_verifying_key(raw), token_backend.algorithm, token_backend.issuer
        )
        _check_times(payload)
    except (jwt.InvalidTokenError, TypeError, ValueError, OverflowError):
        # A claim of the wrong type or range (e.g. "exp": "123" or 1e300) is just as invalid.
        raise InvalidToken("Token is invalid") from None
    if "token_type" not in payload:
        raise InvalidToken("Token has no type")
    if payload["token_type"] != token_type:
        raise InvalidToken("Token has wrong type")
    return _claims(payload)


def decode_allowing_expired(raw: str) -> Claims:
    """A genuine refresh token, expired or not (logout of a dead session is still a 204)."""
    try:
        payload = jwt.decode(
            raw,
            token_backend.get_verifying_key(raw),
            algorithms=[token_backend.algorithm],
            issuer=token_backend.issuer,
            options={"verify_exp": False, "require": ["exp", "iat", "jti", "iss"]},
        )
    except jwt.InvalidTokenError:
        raise InvalidToken() from None
    if payload.get("token_type") != REFRESH:
        raise InvalidToken("Token has wrong type.")
    return _claims(payload)
