"""Workspace B's callers (user token and API key) against workspace A's rows: always a 404."""

import pytest

from activity.models import ActivityEvent
from contacts.models import Contact
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

CALLERS = ["outsider_jwt_client", "outsider_key_client"]
WRITES = {
    "put": {"firstName": "Pwned", "company": "Mallory Inc"},
    "patch": {"company": "Mallory Inc"},
}


@pytest.fixture
def owners_contact(workspace, user):
    return make_contact(
        workspace,
        first_name="Secret",
        last_name="Owner",
        email="owner@acme.example",
        company="Acme",
        created_by=user,
    )


@pytest.fixture
def owners_event(jwt_client, owners_contact):
    response = jwt_client.patch(
        f"/api/contacts/{owners_contact.id}/", {"phone": "555"}, format="json"
    )
    assert response.status_code == 200
    return ActivityEvent.objects.get(action="contact.updated", target_id=owners_contact.id)


def snapshot(contact: Contact) -> dict:
    return dict(Contact.objects.filter(pk=contact.pk).values().get())


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_workspaces_contact_is_a_404_and_unchanged(
    request, caller, method, owners_contact, owners_event
):
    client = request.getfixturevalue(caller)
    before = snapshot(owners_contact)
    events_before = ActivityEvent.objects.count()
    url = f"/api/contacts/{owners_contact.id}/"
    response = getattr(client, method)(url, WRITES.get(method), format="json")
    assert response.status_code == 404
    # The same body as for an id that never existed: no existence oracle.
    missing = client.get("/api/contacts/ct_01HX0000000000000000000000/")
    assert response.json() == missing.json() == {"detail": "Not found.", "code": "not_found"}
    assert snapshot(owners_contact) == before
    assert ActivityEvent.objects.count() == events_before


@pytest.mark.parametrize("caller", CALLERS)
def test_other_workspaces_event_is_a_404(request, caller, owners_event):
    client = request.getfixturevalue(caller)
    assert client.get(f"/api/activity/{owners_event.id}/").status_code == 404


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    "query",
    [
        "",
        "?search=Secret",
        "?search=owner@acme",
        "?search=Acme",
        "?ordering=lastName",
        "?ordering=-createdAt",
        "?ordering=updatedAt&pageSize=200",
    ],
)
def test_lists_and_search_never_return_other_workspaces_contacts(
    request, caller, query, owners_contact, other_workspace
):
    client = request.getfixturevalue(caller)
    own = make_contact(
        other_workspace, first_name="Secret", company="Acme", email="owner@acme.example"
    )
    response = client.get(f"/api/contacts/{query}")
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert owners_contact.id not in ids
    assert own.id in ids


@pytest.mark.parametrize("caller", CALLERS)
def test_a_cursor_cannot_reach_into_another_workspace(request, caller, jwt_client, workspace):
    """A cursor only holds a position; the workspace always comes from the caller."""
    for i in range(3):
        make_contact(workspace, first_name=f"A{i}")
    next_url = jwt_client.get("/api/contacts/?pageSize=1").json()["next"]
    response = request.getfixturevalue(caller).get(next_url)
    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    "query", ["", "?action=contact.updated", "?actor={actor}", "?apiKey={key}"]
)
def test_activity_list_never_returns_other_workspaces_events(
    request, caller, query, owners_event, user, api_key, key_client, owners_contact
):
    key_client.patch(f"/api/contacts/{owners_contact.id}/", {"phone": "556"}, format="json")
    client = request.getfixturevalue(caller)
    url = "/api/activity/" + query.format(actor=user.id, key=api_key.api_key.id)
    response = client.get(url)
    assert response.status_code == 200
    workspaces = set(
        ActivityEvent.objects.filter(
            pk__in=[row["id"] for row in response.json()["results"]]
        ).values_list("workspace_id", flat=True)
    )
    assert owners_event.workspace_id not in workspaces


@pytest.mark.parametrize("caller", CALLERS)
def test_create_always_lands_in_the_callers_workspace(request, caller, other_workspace, workspace):
    client = request.getfixturevalue(caller)
    response = client.post(
        "/api/contacts/", {"firstName": "X", "workspaceId": workspace.id}, format="json"
    )
    assert response.status_code == 400
    response = client.post("/api/contacts/", {"firstName": "X"}, format="json")
    assert response.status_code == 201
    assert Contact.objects.get(pk=response.json()["id"]).workspace_id == other_workspace.id
    assert not Contact.objects.filter(workspace=workspace).exists()


def test_a_teammate_sees_and_changes_the_workspace_contacts(teammate_jwt_client, owners_contact):
    url = f"/api/contacts/{owners_contact.id}/"
    assert teammate_jwt_client.get(url).status_code == 200
    listed = teammate_jwt_client.get("/api/contacts/").json()["results"]
    assert [contact["id"] for contact in listed] == [owners_contact.id]
    assert teammate_jwt_client.patch(url, {"phone": "555"}, format="json").status_code == 200


def test_a_teammate_cannot_see_the_outsiders_contacts(teammate_jwt_client, other_workspace):
    foreign = make_contact(other_workspace, first_name="Foreign")
    assert teammate_jwt_client.get(f"/api/contacts/{foreign.id}/").status_code == 404
    assert teammate_jwt_client.get("/api/contacts/?search=Foreign").json()["results"] == []
