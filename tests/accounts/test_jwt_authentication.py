"""JWT bearer authentication: every wrong token or header is a 401 with a Bearer challenge."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from ulid import ULID

from tests.accounts.helpers import ME, access_payload, login, me, sign
from tests.clients import HttpsAPIClient

pytestmark = pytest.mark.django_db


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(obj: dict) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def assert_rejected(response) -> None:
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert set(body) == {"detail", "code"}


def test_a_correctly_crafted_token_is_accepted(user):
    """The baseline the mutations below start from: crafting itself is right."""
    now = int(time.time())
    assert me(sign(access_payload(user, now=now))).status_code == 200


def _rsa_keys() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def _hs256_with_raw_key(payload: dict, key: bytes) -> str:
    signing_input = f"{b64json({'alg': 'HS256', 'typ': 'JWT'})}.{b64json(payload)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def _forged(kind: str, user, other_user) -> str:
    now = int(time.time())
    good = access_payload(user, now=now)
    if kind == "tampered_payload":
        header, _, signature = sign(good).split(".")
        return f"{header}.{b64json({**good, 'user_id': other_user.pk})}.{signature}"
    if kind == "tampered_signature":
        token = sign(good)
        return token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    if kind == "alg_none":
        return f"{b64json({'alg': 'none', 'typ': 'JWT'})}.{b64json(good)}."
    if kind == "alg_none_with_signature":
        token = sign(good)
        return f"{b64json({'alg': 'none', 'typ': 'JWT'})}.{b64json(good)}.{token.split('.')[2]}"
    if kind == "wrong_key":
        return sign(good, key="a-different-signing-key-of-decent-length")
    if kind == "hs512":
        return sign(good, algorithm="HS512")
    if kind == "rs256":
        private, _ = _rsa_keys()
        return sign(good, key=private, algorithm="RS256")
    if kind == "rs_hs_confusion":
        _, public = _rsa_keys()
        return _hs256_with_raw_key(good, public)
    if kind == "expired":
        return sign(access_payload(user, now=now - 3601))
    if kind == "expires_now":
        return sign(access_payload(user, now=now - 3600, exp=now))
    if kind == "future_iat":
        return sign(access_payload(user, now=now + 600))
    if kind == "wrong_issuer":
        return sign(access_payload(user, now=now, iss="someone-else"))
    if kind == "no_issuer":
        return sign({k: v for k, v in good.items() if k != "iss"})
    if kind == "no_exp":
        return sign({k: v for k, v in good.items() if k != "exp"})
    if kind == "no_jti":
        return sign({k: v for k, v in good.items() if k != "jti"})
    if kind == "jti_not_ulid":
        return sign({**good, "jti": "not-a-ulid"})
    if kind == "no_iat":
        return sign({k: v for k, v in good.items() if k != "iat"})
    if kind == "no_token_type":
        return sign({k: v for k, v in good.items() if k != "token_type"})
    if kind == "refresh_type":
        return sign({**good, "token_type": "refresh"})
    if kind == "unknown_user":
        return sign({**good, "user_id": "usr_" + str(ULID())})
    if kind == "numeric_user_id":
        return sign({**good, "user_id": 1})
    if kind == "jti_in_the_future":
        return sign({**good, "jti": str(ULID.from_timestamp((now + 86400) * 1000))})
    if kind == "string_exp":
        return sign({**good, "exp": str(now + 3600)})
    if kind == "float_iat":
        return sign({**good, "iat": now + 0.5})
    if kind == "system_user":
        return sign({**good, "user_id": other_user.workspace.users.get(is_system=True).pk})
    raise AssertionError(kind)


FORGERIES = [
    "tampered_payload",
    "tampered_signature",
    "alg_none",
    "alg_none_with_signature",
    "wrong_key",
    "hs512",
    "rs256",
    "rs_hs_confusion",
    "expired",
    "expires_now",
    "future_iat",
    "wrong_issuer",
    "no_issuer",
    "no_exp",
    "no_jti",
    "jti_not_ulid",
    "no_iat",
    "no_token_type",
    "refresh_type",
    "unknown_user",
    "numeric_user_id",
    "jti_in_the_future",
    "string_exp",
    "float_iat",
    "system_user",
]


@pytest.mark.parametrize("kind", FORGERIES)
def test_it_rejects_forged_or_invalid_access_tokens(user, other_workspace, kind):
    from tests.factories import make_user

    other_user = make_user(other_workspace, email="victim@example.com")
    assert_rejected(me(_forged(kind, user, other_user)))


def test_a_refresh_token_is_not_an_access_token(api_client, user):
    tokens = login(api_client, user)
    assert_rejected(me(tokens["refresh"]))


def test_the_scheme_name_is_case_insensitive(tokens):
    for scheme in ("bearer", "BEARER", "BeArEr"):
        response = HttpsAPIClient().get(ME, HTTP_AUTHORIZATION=f"{scheme} {tokens['access']}")
        assert response.status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Bearer " + "a" * 5 * 1024,
        "Basic dXNlcjpwYXNzd29yZA==",
        "Token abc",
        "Bearer tökén",
        "Bearer \u00e9\u00e8.\u00ff.\u00a0",
        "Bearer \x00",
        "Bearer pk_",
        "Bearer ...",
        "Bearer eyJ",
        "",
        "   ",
    ],
    ids=[
        "bearer_only",
        "bearer_space",
        "two_tokens",
        "5kb_token",
        "basic",
        "token_scheme",
        "non_ascii",
        "latin1_junk",
        "nul",
        "bare_key_prefix",
        "dots",
        "truncated",
        "empty",
        "blank",
    ],
)
def test_malformed_authorization_headers_are_401(header):
    response = HttpsAPIClient().get(ME, HTTP_AUTHORIZATION=header)
    assert_rejected(response)


@pytest.mark.parametrize("param", ["access_token", "token", "jwt", "access", "authorization"])
def test_credentials_in_the_query_string_are_ignored(tokens, param):
    value = tokens["access"] if param != "authorization" else f"Bearer {tokens['access']}"
    response = HttpsAPIClient().get(ME, {param: value})
    assert_rejected(response)


def test_jwt_authentication_costs_exactly_one_query(jwt_client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = jwt_client.get(ME)
    assert response.status_code == 200
