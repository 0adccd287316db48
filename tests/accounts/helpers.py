"""Small helpers shared by the accounts tests: log in, refresh, call with a bearer token."""

import jwt
from django.conf import settings
from ulid import ULID

from tests.clients import HttpsAPIClient
from tests.factories import PASSWORD

LOGIN = "/api/auth/login/"
REFRESH = "/api/auth/token/refresh/"
LOGOUT = "/api/auth/logout/"
LOGOUT_ALL = "/api/auth/logout-all/"
ME = "/api/auth/me/"
PASSWORD_URL = "/api/auth/password/"


def login(client, user, password: str = PASSWORD) -> dict:
    response = client.post(LOGIN, {"email": user.email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def refresh(client, token: str):
    return client.post(REFRESH, {"refresh": token}, format="json")


def me(token: str, **extra):
    """GET /api/auth/me/ with a fresh client, so no credentials leak between calls."""
    return HttpsAPIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {token}", **extra)


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def sign(payload: dict, *, key: str | None = None, algorithm: str = "HS256", headers=None) -> str:
    return jwt.encode(
        payload, key or settings.JWT_SIGNING_KEY, algorithm=algorithm, headers=headers
    )


def access_payload(user, *, now: int, **overrides) -> dict:
    """Claims exactly like the server's access tokens (of a new live session of `user`); tests
    mutate one thing at a time."""
    from accounts.services.user_sessions import session_start

    session = session_start(user=user, ip=None, user_agent="", kind="api")
    payload = {
        "token_type": "access",
        "exp": now + 3600,
        "iat": now,
        "jti": str(ULID.from_timestamp(now * 1000)),  # int: milliseconds
        "user_id": user.pk,
        "sid": session.pk,
        "iss": settings.JWT_ISSUER,
    }
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not None}
