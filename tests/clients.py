"""HTTP clients for the tests: the real stack over TLS, as a person (JWT) or with an API key."""

from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import PASSWORD


class HttpsAPIClient(APIClient):
    """The real HTTP stack, as if the request came over TLS (the server refuses plain HTTP)."""

    def generic(
        self, method, path, data="", content_type="application/octet-stream", secure=True, **extra
    ):
        return super().generic(method, path, data, content_type, secure=secure, **extra)


def jwt_client_for(user: User) -> HttpsAPIClient:
    client = HttpsAPIClient()
    response = client.post(
        "/api/auth/login/", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client


def key_client_for(plain: str) -> HttpsAPIClient:
    client = HttpsAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client
