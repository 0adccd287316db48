"""A key acts only inside its own workspace, and its writes are attributed to it."""

import pytest

from accounts.models import User
from activity.models import ActivityEvent
from tests.clients import key_client_for
from tests.factories import key_for, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_contact(other_workspace):
    outsider = make_user(other_workspace)
    client = key_client_for(key_for(outsider).plain)
    response = client.post(
        "/api/contacts/", {"firstName": "Secret", "email": "s@b.example"}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_key_of_workspace_a_never_sees_workspace_b_contacts(key_client, foreign_contact):
    url = f"/api/contacts/{foreign_contact['id']}/"
    assert key_client.get(url).status_code == 404
    assert key_client.patch(url, {"firstName": "Pwned"}, format="json").status_code == 404
    assert key_client.delete(url).status_code == 404
    listed = key_client.get("/api/contacts/?search=Secret").json()
    assert listed["results"] == []
    assert foreign_contact["id"] not in str(key_client.get("/api/activity/").json())


def test_key_writes_are_attributed_to_the_system_user_via_that_key(key_client, api_key):
    response = key_client.post("/api/contacts/", {"firstName": "Ada"}, format="json")
    assert response.status_code == 201, response.content
    event = ActivityEvent.objects.get(action="contact.created", target_id=response.json()["id"])
    system_user = User.objects.get(workspace_id=api_key.api_key.workspace_id, is_system=True)
    assert (event.actor_id, event.api_key_id) == (system_user.id, api_key.api_key.id)


def test_a_teammate_sees_the_workspace_keys_but_not_the_outsiders(
    teammate_jwt_client, api_key, outsider
):
    foreign = key_for(outsider, name="Outsider key")
    listed = teammate_jwt_client.get("/api/api-keys/").json()["results"]
    assert [key["id"] for key in listed] == [api_key.api_key.id]
    assert teammate_jwt_client.get(f"/api/api-keys/{api_key.api_key.id}/").status_code == 200
    assert teammate_jwt_client.get(f"/api/api-keys/{foreign.api_key.id}/").status_code == 404
