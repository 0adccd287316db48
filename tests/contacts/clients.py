"""Callers for the contacts and activity tests: the owner's workspace and an outsider's."""

from accounts.models import User
from activity.actor import Actor
from apikeys import services as apikey_services
from contacts.models import Contact
from tests.conftest import HttpsAPIClient
from tests.factories import PASSWORD


def jwt_client_for(user: User) -> HttpsAPIClient:
    client = HttpsAPIClient()
    response = client.post(
        "/api/auth/login/", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client


def key_for(user: User, name: str = "Zapier") -> apikey_services.CreatedKey:
    actor = Actor.system(workspace_id=user.workspace_id, user_id=user.id)
    return apikey_services.api_key_create(actor=actor, name=name)


def key_client_for(plain: str) -> HttpsAPIClient:
    client = HttpsAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def system_user_id(workspace_id: str) -> str:
    return User.objects.get(workspace_id=workspace_id, is_system=True).id


def make_contact(workspace, **fields) -> Contact:
    fields.setdefault("first_name", "Ada")
    return Contact.objects.create(workspace=workspace, **fields)
