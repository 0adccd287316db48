"""Every contact change is one activity event naming the person, or the system user and key."""

import pytest
from django.db import IntegrityError

from activity.actor import Actor
from activity.models import ActivityEvent
from contacts import services
from contacts.models import Contact
from tests.factories import make_contact, system_user_id


@pytest.mark.django_db
def test_same_change_by_user_token_and_by_api_key_is_attributed_to_each(
    jwt_client, key_client, user, api_key, workspace
):
    contact = make_contact(workspace, last_name="Lovelace")
    url = f"/api/contacts/{contact.id}/"
    headers = {"HTTP_USER_AGENT": "attribution-test/1.0", "REMOTE_ADDR": "198.51.100.7"}
    assert jwt_client.patch(url, {"company": "A"}, format="json", **headers).status_code == 200
    assert key_client.patch(url, {"company": "B"}, format="json", **headers).status_code == 200

    by_user, by_key = ActivityEvent.objects.filter(action="contact.updated").order_by("id")
    assert (by_user.actor_id, by_user.api_key_id) == (user.id, None)
    assert (by_key.actor_id, by_key.api_key_id) == (
        system_user_id(workspace.id),
        api_key.api_key.id,
    )
    for event in (by_user, by_key):
        assert event.workspace_id == workspace.id
        assert (event.target_type, event.target_id, event.changes) == (
            "contact",
            contact.id,
            ["company"],
        )
        assert (event.ip, event.user_agent) == ("198.51.100.7", "attribution-test/1.0")

    # The same, as the activity API shows it: the key's changes are findable by ?apiKey=.
    rows = jwt_client.get(f"/api/activity/?apiKey={api_key.api_key.id}").json()["results"]
    assert [(r["id"], r["actorId"], r["apiKeyId"]) for r in rows] == [
        (by_key.id, system_user_id(workspace.id), api_key.api_key.id)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("client_name", ["jwt_client", "key_client"])
def test_create_and_delete_are_attributed(request, client_name, workspace, user, api_key):
    client = request.getfixturevalue(client_name)
    created = client.post("/api/contacts/", {"firstName": "Eve", "email": "e@x.io"}, format="json")
    contact_id = created.json()["id"]
    assert client.delete(f"/api/contacts/{contact_id}/").status_code == 204
    events = ActivityEvent.objects.filter(target_id=contact_id).order_by("id")
    assert [(e.action, e.changes) for e in events] == [
        ("contact.created", ["email", "firstName"]),
        ("contact.deleted", []),
    ]
    expected_key = api_key.api_key.id if client_name == "key_client" else None
    assert {e.api_key_id for e in events} == {expected_key}


@pytest.mark.django_db
@pytest.mark.parametrize("client_name", ["jwt_client", "key_client"])
@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("patch", {"email": "not-an-email"}),
        ("patch", {"company": "x" * 201}),
        ("put", {"lastName": "no first name"}),
        ("patch", {"unknownField": 1}),
    ],
    ids=["bad_email", "long_company", "put_without_first_name", "unknown_field"],
)
def test_a_rejected_change_writes_no_event(request, client_name, method, body, workspace):
    contact = make_contact(workspace, company="Acme")
    client = request.getfixturevalue(client_name)
    before = ActivityEvent.objects.count()
    response = getattr(client, method)(f"/api/contacts/{contact.id}/", body, format="json")
    assert response.status_code == 400
    assert ActivityEvent.objects.count() == before
    contact.refresh_from_db()
    assert contact.company == "Acme"


@pytest.mark.django_db(transaction=True)
def test_a_change_whose_event_cannot_be_written_is_rolled_back(user, workspace):
    """The event is in the change's transaction: no event, no change."""
    actor = Actor(
        workspace_id=workspace.id, user_id=user.id, api_key_id="key_01HX0000000000000000000000"
    )
    with pytest.raises(IntegrityError):
        services.contact_create(actor=actor, data={"first_name": "Ghost"})
    assert not Contact.objects.exists()
    assert not ActivityEvent.objects.filter(action="contact.created").exists()
