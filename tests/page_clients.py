"""A browser's side of the Settings pages through Django's test client, over (simulated) TLS."""

from django.test import Client

from accounts.models import User
from tests.factories import PASSWORD

LOGIN = "/login/"


class HttpsClient(Client):
    """Django's test client as if every request came over TLS (the server refuses plain HTTP),
    sending the Origin header a browser sends with a form (HTTPS CSRF checks need it)."""

    def generic(self, method, path, data="", content_type="application/octet-stream", **extra):
        extra["secure"] = True
        if method not in ("GET", "HEAD", "OPTIONS"):
            extra.setdefault("HTTP_ORIGIN", "https://testserver")
        return super().generic(method, path, data, content_type, **extra)


def sign_in(client: Client, user: User, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"email": user.email, "password": password}, **extra)


def signed_in_client(user: User, **client_options) -> HttpsClient:
    client = HttpsClient(**client_options)
    response = sign_in(client, user)
    assert response.status_code == 302, response.content
    return client


def csrf_token_of(client: Client, path: str) -> str:
    """The token a page's forms carry (what a real browser would send back)."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.context["csrf_token"]
