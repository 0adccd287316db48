import pytest

from activity.models import ActivityEvent
from contacts.models import Contact
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

LIST = "/api/contacts/"
FIELDS = {
    "id",
    "firstName",
    "lastName",
    "email",
    "phone",
    "company",
    "notes",
    "createdAt",
    "updatedAt",
}


def detail(contact_id: str) -> str:
    return f"/api/contacts/{contact_id}/"


def test_create_returns_the_contract_fields(jwt_client, user):
    body = {
        "firstName": "Grace",
        "lastName": "Hopper",
        "email": "grace@navy.example",
        "phone": "+1 555 0100",
        "company": "US Navy",
        "notes": "COBOL\n",
    }
    response = jwt_client.post(LIST, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == FIELDS
    assert data["id"].startswith("ct_")
    assert {k: data[k] for k in body} == body
    assert data["createdAt"] == data["updatedAt"]
    contact = Contact.objects.get(pk=data["id"])
    assert contact.workspace_id == user.workspace_id and contact.created_by_id == user.id


def test_create_needs_only_first_name(jwt_client):
    response = jwt_client.post(LIST, {"firstName": "Ada"}, format="json")
    assert response.status_code == 201
    assert response.json()["lastName"] == "" and response.json()["email"] == ""


@pytest.mark.parametrize(
    ("body", "bad_fields"),
    [
        ({}, {"firstName"}),
        ({"firstName": "   "}, {"firstName"}),
        ({"firstName": "x" * 101}, {"firstName"}),
        ({"firstName": "A", "lastName": "x" * 101}, {"lastName"}),
        ({"firstName": "A", "email": "not-an-email"}, {"email"}),
        ({"firstName": "A", "phone": "1" * 33}, {"phone"}),
        ({"firstName": "A", "company": "c" * 201}, {"company"}),
        ({"firstName": "A", "notes": "n" * 10_001}, {"notes"}),
        ({"firstName": None}, {"firstName"}),
        ({"firstName": "A\x00B"}, {"firstName"}),
        ({"firstName": "A", "workspaceId": "ws_01HX0000000000000000000000"}, {"workspaceId"}),
        ({"firstName": "A", "id": "ct_01HX0000000000000000000000"}, {"id"}),
        ({"firstName": "A", "createdAt": "2020-01-01T00:00:00Z"}, {"createdAt"}),
        ({"first_name": "A"}, {"first_name"}),
        (
            {"firstName": "", "email": "bad", "phone": "1" * 40},
            {"firstName", "email", "phone"},
        ),
    ],
    ids=[
        "missing_first_name",
        "blank_first_name",
        "long_first_name",
        "long_last_name",
        "bad_email",
        "long_phone",
        "long_company",
        "long_notes",
        "null_first_name",
        "nul_character",
        "unknown_workspace_field",
        "read_only_id",
        "read_only_created_at",
        "snake_case_name",
        "several_at_once",
    ],
)
def test_invalid_create_is_a_400_naming_the_camel_case_fields(jwt_client, body, bad_fields):
    response = jwt_client.post(LIST, body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid" and data["detail"]
    assert set(data["fields"]) == bad_fields
    assert all(isinstance(m, str) for messages in data["fields"].values() for m in messages)
    assert not Contact.objects.exists()
    assert not ActivityEvent.objects.filter(action__startswith="contact.").exists()


@pytest.mark.parametrize("body", [[], "text", 42], ids=["list", "string", "number"])
def test_a_body_that_is_not_an_object_is_a_400(jwt_client, body):
    response = jwt_client.post(LIST, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"]


def test_malformed_json_is_a_400(jwt_client):
    response = jwt_client.post(LIST, "{nope", content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) >= {"detail", "code"}


def test_retrieve(jwt_client, workspace):
    contact = make_contact(workspace, last_name="Lovelace", email="ada@example.com")
    response = jwt_client.get(detail(contact.id))
    assert response.status_code == 200
    assert response.json()["email"] == "ada@example.com" and set(response.json()) == FIELDS


@pytest.mark.parametrize(
    "contact_id",
    ["ct_01HX0000000000000000000000", "ct_nope", "usr_01HX0000000000000000000000", "x" * 300],
    ids=["unknown", "malformed", "other_prefix", "long"],
)
def test_unknown_or_malformed_id_is_a_404(jwt_client, contact_id):
    for method in ("get", "put", "patch", "delete"):
        response = getattr(jwt_client, method)(
            detail(contact_id), {"firstName": "X"}, format="json"
        )
        assert response.status_code == 404, method
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_patch_changes_only_the_given_fields(jwt_client, workspace):
    contact = make_contact(workspace, last_name="Lovelace", company="Analytical")
    response = jwt_client.patch(detail(contact.id), {"company": "Babbage & Co"}, format="json")
    assert response.status_code == 200
    data = response.json()
    assert data["company"] == "Babbage & Co" and data["lastName"] == "Lovelace"
    assert data["updatedAt"] > data["createdAt"]
    event = ActivityEvent.objects.get(action="contact.updated")
    assert event.changes == ["company"] and event.target_id == contact.id


def test_put_replaces_the_whole_contact(jwt_client, workspace):
    contact = make_contact(workspace, last_name="Lovelace", company="Analytical", phone="123")
    response = jwt_client.put(detail(contact.id), {"firstName": "Augusta"}, format="json")
    assert response.status_code == 200
    data = response.json()
    assert (data["firstName"], data["lastName"], data["company"], data["phone"]) == (
        "Augusta",
        "",
        "",
        "",
    )
    assert ActivityEvent.objects.get(action="contact.updated").changes == [
        "company",
        "firstName",
        "lastName",
        "phone",
    ]


def test_put_requires_first_name(jwt_client, workspace):
    contact = make_contact(workspace, last_name="Lovelace")
    response = jwt_client.put(detail(contact.id), {"lastName": "Byron"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"firstName"}
    contact.refresh_from_db()
    assert contact.last_name == "Lovelace"


def test_patch_that_changes_nothing_writes_nothing(jwt_client, workspace):
    contact = make_contact(workspace, last_name="Lovelace")
    response = jwt_client.patch(detail(contact.id), {"lastName": "Lovelace"}, format="json")
    assert response.status_code == 200
    before = contact.updated_at
    contact.refresh_from_db()
    assert contact.updated_at == before
    assert not ActivityEvent.objects.filter(action="contact.updated").exists()


def test_patch_rejects_unknown_fields_and_changes_nothing(jwt_client, workspace):
    contact = make_contact(workspace, last_name="Lovelace")
    response = jwt_client.patch(
        detail(contact.id), {"lastName": "Byron", "lastname": "typo"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"lastname": ["Unknown field."]}
    contact.refresh_from_db()
    assert contact.last_name == "Lovelace"


def test_delete(jwt_client, workspace):
    contact = make_contact(workspace)
    response = jwt_client.delete(detail(contact.id))
    assert response.status_code == 204
    assert not Contact.objects.filter(pk=contact.id).exists()
    assert jwt_client.get(detail(contact.id)).status_code == 404
    event = ActivityEvent.objects.get(action="contact.deleted")
    assert event.target_type == "contact" and event.target_id == contact.id
    assert jwt_client.delete(detail(contact.id)).status_code == 404


def test_anonymous_requests_are_401(api_client, workspace):
    contact = make_contact(workspace)
    assert api_client.get(LIST).status_code == 401
    assert api_client.get(detail(contact.id)).status_code == 401
    assert api_client.post(LIST, {"firstName": "A"}, format="json").status_code == 401
    assert Contact.objects.count() == 1


def test_api_key_can_use_every_method(key_client, workspace):
    created = key_client.post(LIST, {"firstName": "Kay"}, format="json")
    assert created.status_code == 201
    contact_id = created.json()["id"]
    assert key_client.get(LIST).json()["results"][0]["id"] == contact_id
    assert key_client.get(detail(contact_id)).status_code == 200
    assert key_client.patch(detail(contact_id), {"phone": "1"}, format="json").status_code == 200
    assert key_client.put(detail(contact_id), {"firstName": "K"}, format="json").status_code == 200
    assert key_client.delete(detail(contact_id)).status_code == 204


@pytest.mark.parametrize("padding", [" ", "\u00a0", "\n"], ids=repr)
def test_it_counts_max_length_on_the_text_as_sent_before_trimming(jwt_client, padding):
    # The schema's maxLength (100) is what a client sends; trimming must not let 101 through.
    body = {"firstName": "Ann", "lastName": padding + "x" * 100}
    response = jwt_client.post(LIST, body, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "lastName": ["Ensure this field has no more than 100 characters."]
    }
    body = {"firstName": "Ann", "lastName": "x" * 100}
    assert jwt_client.post(LIST, body, format="json").status_code == 201
