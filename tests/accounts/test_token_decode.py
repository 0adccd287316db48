"""accounts.tokens.decode, PyJWT called directly: simplejwt's key, algorithm, issuer and leeway,
then exp, jti and type. What tests/accounts/test_jwt_authentication.py does not already cover:
claims of absurd types or ranges (a 401, never a 500), the detail a client reads, refresh
tokens, the leeway taken from simplejwt's backend, and simplejwt's AccessToken as the reference
(every token it refuses, decode refuses, with the same detail where the client reads one)."""

import datetime as dt
import json
import time

import jwt
import pytest
import time_machine
from django.conf import settings
from jwt.api_jws import PyJWS
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.tokens import AccessToken
from ulid import ULID

from accounts import tokens
from tests.accounts.helpers import access_payload, me, refresh, sign

pytestmark = pytest.mark.django_db


def refresh_payload(user, *, now: int, **overrides) -> dict:
    """Claims exactly like the server's refresh tokens; tests mutate one thing at a time."""
    payload = {
        "token_type": "refresh",
        "exp": now + 86400,
        "iat": now,
        "jti": str(ULID.from_timestamp(now * 1000)),
        "user_id": user.pk,
        "iss": settings.JWT_ISSUER,
    }
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not None}


def sign_any(payload: dict) -> str:
    """HS256 with our key over any JSON, even claims PyJWT's encoder refuses (a non-string
    iss) or that strict JSON has no word for (NaN, Infinity)."""
    return PyJWS().encode(json.dumps(payload).encode(), settings.JWT_SIGNING_KEY, "HS256")


def without(payload: dict, claim: str) -> dict:
    return {key: value for key, value in payload.items() if key != claim}


def assert_refused(response) -> dict:
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert set(body) == {"detail", "code"} and body["code"] == "token_not_valid"
    return body


ODD_CLAIMS = {
    "exp_1e300": {"exp": 1e300},
    "exp_minus_1e300": {"exp": -1e300},
    "exp_infinity": {"exp": float("inf")},
    "exp_nan": {"exp": float("nan")},
    "exp_numeric_string": {"exp": "99999999999"},
    "exp_float_string": {"exp": "1e300"},
    "exp_word": {"exp": "tomorrow"},
    "exp_list": {"exp": [1, 2]},
    "exp_object": {"exp": {"at": 1}},
    "exp_true": {"exp": True},
    "exp_fraction": {"exp": time.time() + 3600.5},
    "iat_1e300": {"iat": 1e300},
    "iat_infinity": {"iat": float("inf")},
    "iat_nan": {"iat": float("nan")},
    "iat_string": {"iat": "yesterday"},
    "nbf_1e300": {"nbf": 1e300},
    "nbf_infinity": {"nbf": float("inf")},
    "nbf_string": {"nbf": "soon"},
    "jti_number": {"jti": 12345},
    "jti_null_like": {"jti": ""},
    "token_type_number": {"token_type": 1},
    "token_type_upper": {"token_type": "ACCESS"},
    "iss_list": {"iss": [settings.JWT_ISSUER]},
    "sid_number": {"sid": 5},
}


@pytest.mark.parametrize("claims", ODD_CLAIMS.values(), ids=ODD_CLAIMS.keys())
def test_an_access_token_with_an_odd_claim_is_401_never_500(user, claims):
    now = int(time.time())
    assert_refused(me(sign_any({**access_payload(user, now=now), **claims})))


@pytest.mark.parametrize("claims", ODD_CLAIMS.values(), ids=ODD_CLAIMS.keys())
def test_a_refresh_token_with_an_odd_claim_is_refused_by_decode(user, claims):
    now = int(time.time())
    raw = sign_any({**refresh_payload(user, now=now), **claims})
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(raw, tokens.REFRESH)


@pytest.mark.parametrize("claims", ODD_CLAIMS.values(), ids=ODD_CLAIMS.keys())
def test_the_refresh_endpoint_answers_an_odd_claim_with_401(api_client, user, claims):
    now = int(time.time())
    raw = sign_any({**refresh_payload(user, now=now), **claims})
    assert_refused(refresh(api_client, raw))


def test_an_expired_token_says_it_is_expired(user):
    now = int(time.time())
    body = assert_refused(me(sign(access_payload(user, now=now - 7200))))
    assert body["detail"] == "Token is expired"


def test_a_token_expiring_this_very_instant_is_expired(user):
    """No leeway: exp == now is already too late (PyJWT's `exp <= now - leeway`)."""
    now = int(time.time()) + 60
    raw = sign(access_payload(user, now=now - 30, exp=now))
    with (
        time_machine.travel(dt.datetime.fromtimestamp(now, tz=dt.UTC), tick=False),
        pytest.raises(tokens.InvalidToken, match=r"^Token is expired$"),
    ):
        tokens.decode(raw, tokens.ACCESS)
    with time_machine.travel(dt.datetime.fromtimestamp(now - 0.001, tz=dt.UTC), tick=False):
        assert tokens.decode(raw, tokens.ACCESS).exp == now


def test_the_leeway_comes_from_simplejwts_backend(user, monkeypatch):
    now = int(time.time())
    raw = sign(access_payload(user, now=now - 100, exp=now - 10))
    with pytest.raises(tokens.InvalidToken, match="expired"):
        tokens.decode(raw, tokens.ACCESS)
    monkeypatch.setattr(token_backend, "leeway", 30)
    assert tokens.decode(raw, tokens.ACCESS).exp == now - 10


@pytest.mark.parametrize(
    ("kind", "detail"),
    [
        ("refresh_as_access", "Token has wrong type"),
        ("no_token_type", "Token has no type"),
        ("no_exp", "Token is invalid"),
        ("no_jti", "Token is invalid"),
        ("no_iss", "Token is invalid"),
        ("foreign_issuer", "Token is invalid"),
    ],
)
def test_a_refused_token_says_why(user, kind, detail):
    now = int(time.time())
    good = access_payload(user, now=now)
    payload = {
        "refresh_as_access": {**good, "token_type": "refresh"},
        "no_token_type": without(good, "token_type"),
        "no_exp": without(good, "exp"),
        "no_jti": without(good, "jti"),
        "no_iss": without(good, "iss"),
        "foreign_issuer": {**good, "iss": "https://issuer.example"},
    }[kind]
    assert assert_refused(me(sign(payload)))["detail"] == detail


def test_an_access_token_is_refused_as_a_refresh_token(user):
    now = int(time.time())
    with pytest.raises(tokens.InvalidToken, match=r"^Token has wrong type$"):
        tokens.decode(sign(access_payload(user, now=now)), tokens.REFRESH)


@pytest.mark.parametrize("claim", ["exp", "jti", "iss", "token_type"])
def test_a_refresh_token_missing_a_required_claim_is_refused(user, claim):
    now = int(time.time())
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(sign(without(refresh_payload(user, now=now), claim)), tokens.REFRESH)


def test_an_expired_refresh_token_is_refused_as_expired(user):
    now = int(time.time())
    raw = sign(refresh_payload(user, now=now - 100, exp=now - 1))
    with pytest.raises(tokens.InvalidToken, match=r"^Token is expired$"):
        tokens.decode(raw, tokens.REFRESH)


def test_a_genuine_refresh_token_decodes_to_its_claims(user):
    now = int(time.time())
    payload = refresh_payload(user, now=now)
    claims = tokens.decode(sign(payload), tokens.REFRESH)
    assert (claims.user_id, claims.jti, claims.exp, claims.session_id) == (
        user.pk,
        payload["jti"],
        payload["exp"],
        None,
    )
    assert claims.issued_ms == now * 1000


def _reference_tokens(user) -> dict[str, str]:
    now = int(time.time())
    good = access_payload(user, now=now)
    header, body, signature = sign(good).split(".")
    return {
        "good": sign(good),
        "expired": sign({**good, "exp": now - 1}),
        "expires_now": sign({**good, "exp": now}),
        "refresh_type": sign({**good, "token_type": "refresh"}),
        "no_token_type": sign(without(good, "token_type")),
        "no_exp": sign(without(good, "exp")),
        "no_jti": sign(without(good, "jti")),
        "no_iss": sign(without(good, "iss")),
        "foreign_issuer": sign({**good, "iss": "someone-else"}),
        "wrong_key": sign(good, key="another-signing-key-of-a-decent-length-0123"),
        "hs512": sign(good, algorithm="HS512"),
        "alg_none": jwt.encode(good, None, algorithm="none"),
        "tampered_signature": f"{header}.{body}.{signature[::-1]}",
        "truncated": f"{header}.{body}",
        "garbage": "not.a.jwt",
        "future_nbf": sign({**good, "nbf": now + 600}),
        "future_iat": sign({**good, "iat": now + 600}),
    }


# simplejwt's details a client may read; a missing exp or jti is now just "Token is invalid".
KEPT_DETAILS = {"Token is expired", "Token is invalid", "Token has wrong type", "Token has no type"}


def test_every_token_simplejwt_refuses_is_refused_with_its_detail(user):
    """simplejwt's AccessToken (what decode replaced) is the reference for acceptance."""
    for kind, raw in _reference_tokens(user).items():
        try:
            AccessToken(raw)
        except TokenError as exc:
            with pytest.raises(tokens.InvalidToken) as refused:
                tokens.decode(raw, tokens.ACCESS)
            if str(exc) in KEPT_DETAILS:
                assert refused.value.message == str(exc), kind
        else:
            assert kind == "good", kind
            assert tokens.decode(raw, tokens.ACCESS).user_id == user.pk
