"""contact_json writes out what ContactOutput (the schema's description) would: the two are held
equal here, for odd rows and for every endpoint that answers with a contact."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from contacts.api import ContactOutput, contact_json
from contacts.models import Contact
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

LIST = "/api/contacts/"


def serialized(contact: Contact) -> dict:
    return dict(ContactOutput(contact).data)


def stored(contact_id: str) -> Contact:
    return Contact.objects.get(pk=contact_id)


ROWS = {
    "empty_optional_fields": {"first_name": "Ada"},
    "every_field": {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@navy.example",
        "phone": "+1 555 0100",
        "company": "US Navy",
        "notes": "COBOL\n",
    },
    "unicode": {
        "first_name": "پارسا",
        "last_name": "Ñúñez-Łódź",
        "company": "株式会社 😀 \u200d\u0301",
        "notes": 'tab\tnewline\n\u2028quote" backslash\\ </script>',
    },
    "long_notes": {"first_name": "Long", "notes": "n" * 9_999 + "😀"},
    "whitespace_kept": {"first_name": "Spacey", "notes": "  leading and trailing  \n"},
}


@pytest.mark.parametrize("fields", ROWS.values(), ids=ROWS.keys())
def test_contact_json_equals_the_serializer_for_a_stored_row(workspace, fields):
    contact = stored(make_contact(workspace, **fields).id)
    assert contact_json(contact) == serialized(contact)


TIMESTAMPS = {
    "utc_with_microseconds": datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=UTC),
    "utc_without_microseconds": datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
    "one_microsecond": datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    "tehran_zoneinfo": datetime(2024, 3, 20, 2, 30, 0, 500, tzinfo=ZoneInfo("Asia/Tehran")),
    "new_york_dst": datetime(2024, 7, 4, 12, 0, tzinfo=ZoneInfo("America/New_York")),
    "fixed_negative_offset": datetime(2024, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=-9.5))),
    "zoneinfo_utc": datetime(2024, 1, 1, 12, 0, tzinfo=ZoneInfo("UTC")),
}


@pytest.mark.parametrize("moment", TIMESTAMPS.values(), ids=TIMESTAMPS.keys())
def test_contact_json_writes_timestamps_as_the_serializer_does(workspace, moment):
    contact = make_contact(workspace)
    contact.created_at = moment
    contact.updated_at = moment + timedelta(microseconds=7)
    assert contact_json(contact) == serialized(contact)
    assert contact_json(contact)["createdAt"].endswith("Z")


@pytest.mark.parametrize("moment", TIMESTAMPS.values(), ids=TIMESTAMPS.keys())
def test_contact_json_of_timestamps_read_back_from_the_database(workspace, moment):
    contact = make_contact(workspace)
    Contact.objects.filter(pk=contact.pk).update(created_at=moment, updated_at=moment)
    contact = stored(contact.id)
    assert contact_json(contact) == serialized(contact)


def test_the_list_answers_what_the_serializer_writes(jwt_client, workspace):
    ids = [make_contact(workspace, **fields).id for fields in ROWS.values()]
    response = jwt_client.get(LIST)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert sorted(row["id"] for row in results) == sorted(ids)
    assert results == [serialized(stored(row["id"])) for row in results]


def test_retrieve_answers_what_the_serializer_writes(jwt_client, workspace):
    contact = make_contact(workspace, **ROWS["unicode"])
    response = jwt_client.get(f"{LIST}{contact.id}/")
    assert response.status_code == 200, response.content
    assert response.json() == serialized(stored(contact.id))


def test_create_answers_what_the_serializer_writes(jwt_client):
    body = {"firstName": "Grace", "lastName": "Hopper", "notes": "COBOL ☕\n"}
    response = jwt_client.post(LIST, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json() == serialized(stored(response.json()["id"]))


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_answers_what_the_serializer_writes(jwt_client, workspace, method):
    contact = make_contact(workspace, **ROWS["every_field"])
    body = {"firstName": "Amazing", "company": "Ñ & Co."}
    response = getattr(jwt_client, method)(f"{LIST}{contact.id}/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == serialized(stored(contact.id))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("ordering=name", "ordering"),
        ("ordering=lastName&ordering=nope", "ordering"),
        ("search=" + "x" * 101, "search"),
        ("search=%00", "search"),
        ("search=ok&ordering=nope", "ordering"),
        ("ordering=lastName&search=" + "x" * 101, "search"),
    ],
    ids=[
        "unknown_ordering",
        "last_ordering_bad",
        "long_search",
        "nul_search",
        "good_search_bad_ordering",
        "good_ordering_long_search",
    ],
)
def test_given_list_parameters_are_still_validated(jwt_client, workspace, query, field):
    make_contact(workspace)
    response = jwt_client.get(f"{LIST}?{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {field}


@pytest.mark.parametrize("query", ["", "?pageSize=2", "?search=", "?ordering=", "?unrelated=1"])
def test_a_list_without_search_or_ordering_is_newest_first(jwt_client, workspace, query):
    ids = [make_contact(workspace, first_name=f"C{i}").id for i in range(3)]
    response = jwt_client.get(f"{LIST}{query}")
    assert response.status_code == 200, response.content
    expected = sorted(ids, reverse=True)[: 2 if "pageSize" in query else 3]
    assert [row["id"] for row in response.json()["results"]] == expected


def test_search_and_ordering_still_apply_when_given(jwt_client, workspace):
    make_contact(workspace, first_name="Zed", last_name="Alpha")
    make_contact(workspace, first_name="Amy", last_name="Zulu")
    make_contact(workspace, first_name="Bob", last_name="Beta", company="Other")
    response = jwt_client.get(f"{LIST}?search=a&ordering=-lastName")
    assert response.status_code == 200, response.content
    assert [row["lastName"] for row in response.json()["results"]] == ["Zulu", "Beta", "Alpha"]
    response = jwt_client.get(f"{LIST}?search=zulu")
    assert [row["firstName"] for row in response.json()["results"]] == ["Amy"]
