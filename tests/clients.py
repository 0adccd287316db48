"""Authenticated callers and the rows tests need, built through the real services."""

from rest_framework.test import APIClient

from accounts.models import User
from activity.actor import Actor
from apikeys import services as apikey_services
from contacts.models import Contact
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


def key_for(user: User, *, name: str = "Zapier", expires_at=None) -> apikey_services.CreatedKey:
    """A new API key of `user`'s workspace, created by `user` (its `.plain` is the full key)."""
    actor = Actor.system(workspace_id=user.workspace_id, user_id=user.id)
    return apikey_services.api_key_create(actor=actor, name=name, expires_at=expires_at)


def key_client_for(plain: str) -> HttpsAPIClient:
    client = HttpsAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def system_user_id(workspace_id: str) -> str:
    return User.objects.get(workspace_id=workspace_id, is_system=True).id


def make_contact(workspace, **fields) -> Contact:
    fields.setdefault("first_name", "Ada")
    return Contact.objects.create(workspace=workspace, **fields)
