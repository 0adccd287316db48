import threading
from base64 import urlsafe_b64encode
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from contacts.models import Contact
from tests.clients import jwt_client_for
from tests.factories import make_contact

LIST = "/api/contacts/"
SURNAMES = ["Smith", "Jones", "Brown", "Smith", "Taylor", "Smith", "", "Évora", "adams"]


def bulk(workspace, n: int, *, prefix: str = "P") -> list[Contact]:
    now = timezone.now()
    return Contact.objects.bulk_create(
        Contact(
            workspace=workspace,
            first_name=f"{prefix}{i}",
            last_name=SURNAMES[i % len(SURNAMES)],
            # Many ties on purpose: rows share timestamps in groups of 7.
            created_at=now - timedelta(seconds=i // 7),
            updated_at=now - timedelta(seconds=(i * 13) % 11),
        )
        for i in range(n)
    )


def walk(client, url: str) -> list[dict]:
    rows: list[dict] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        rows.extend(body["results"])
        url = body["next"]
    return rows


def expected_order(workspace, *keys: str) -> list[str]:
    return list(
        Contact.objects.filter(workspace=workspace).order_by(*keys).values_list("id", flat=True)
    )


@pytest.mark.django_db
def test_default_page_is_50_newest_first(jwt_client, workspace):
    bulk(workspace, 60)
    body = jwt_client.get(LIST).json()
    assert len(body["results"]) == 50 and body["previous"] is None and body["next"]
    assert [r["id"] for r in body["results"]] == expected_order(workspace, "-id")[:50]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ordering", "keys"),
    [
        ("", ("-id",)),
        ("createdAt", ("created_at", "id")),
        ("-createdAt", ("-created_at", "-id")),
        ("updatedAt", ("updated_at", "id")),
        ("-updatedAt", ("-updated_at", "-id")),
        ("lastName", ("last_name", "id")),
        ("-lastName", ("-last_name", "-id")),
    ],
)
def test_every_ordering_walks_all_rows_once_forwards_and_back(
    jwt_client, workspace, ordering, keys
):
    bulk(workspace, 95)
    url = f"{LIST}?pageSize=10" + (f"&ordering={ordering}" if ordering else "")
    forward = walk(jwt_client, url)
    assert [r["id"] for r in forward] == expected_order(workspace, *keys)

    # From the last page, `previous` walks back to the first without gaps or repeats.
    last = jwt_client.get(url).json()
    while last["next"]:
        last = jwt_client.get(last["next"]).json()
    backward = list(last["results"])
    page = last
    while page["previous"]:
        page = jwt_client.get(page["previous"]).json()
        backward = page["results"] + backward
    assert [r["id"] for r in backward] == [r["id"] for r in forward]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "ordering=name",
        "ordering=last_name",
        "ordering=-id",
        "pageSize=0",
        "pageSize=201",
        "pageSize=abc",
        "cursor=garbage",
        "cursor=" + urlsafe_b64encode(b'{"k":"-id","v":[1],"r":0}').decode(),
        "cursor=" + urlsafe_b64encode(b'{"k":"-id","v":["a","b"],"r":0}').decode(),
        "cursor=" + urlsafe_b64encode(b'{"k":"-id","v":["a\\u0000"],"r":0}').decode(),
        "ordering=createdAt&cursor="
        + urlsafe_b64encode(b'{"k":"created_at,id","v":["yesterday","ct_x"],"r":0}').decode(),
        "search=" + "x" * 101,
        "search=%00",
    ],
)
def test_bad_list_parameters_are_a_400(jwt_client, workspace, query):
    make_contact(workspace)
    response = jwt_client.get(f"{LIST}?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"


@pytest.mark.django_db
def test_a_cursor_from_another_ordering_is_a_400(jwt_client, workspace):
    bulk(workspace, 5)
    next_url = jwt_client.get(f"{LIST}?pageSize=2&ordering=lastName").json()["next"]
    response = jwt_client.get(next_url.replace("ordering=lastName", "ordering=createdAt"))
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"cursor"}


@pytest.mark.django_db
def test_search_matches_names_email_and_company_case_insensitively(jwt_client, workspace):
    hits = {
        make_contact(workspace, first_name="Margaret").id,
        make_contact(workspace, first_name="X", last_name="MARGOLIS").id,
        make_contact(workspace, first_name="Y", email="marg@example.com").id,
        make_contact(workspace, first_name="Z", company="Margin Call Ltd").id,
    }
    make_contact(workspace, first_name="Ada", notes="marg in the notes is not searched")
    response = jwt_client.get(f"{LIST}?search=mArG")
    assert {r["id"] for r in response.json()["results"]} == hits


@pytest.mark.django_db
def test_search_treats_like_wildcards_literally(jwt_client, workspace):
    percent = make_contact(workspace, first_name="100% Ada").id
    make_contact(workspace, first_name="1000 Ada")
    underscore = make_contact(workspace, first_name="a_b").id
    make_contact(workspace, first_name="axb")
    assert [r["id"] for r in jwt_client.get(f"{LIST}?search=0%25").json()["results"]] == [percent]
    assert [r["id"] for r in jwt_client.get(f"{LIST}?search=a_b").json()["results"]] == [underscore]


@pytest.mark.django_db
def test_search_pages_with_ordering(jwt_client, workspace):
    bulk(workspace, 60)
    rows = walk(jwt_client, f"{LIST}?search=smith&ordering=-lastName&pageSize=7")
    expected = list(
        Contact.objects.filter(workspace=workspace, last_name="Smith")
        .order_by("-last_name", "-id")
        .values_list("id", flat=True)
    )
    assert [r["id"] for r in rows] == expected and len(expected) > 7


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "?ordering=lastName", "?search=smith&pageSize=20"])
def test_a_list_request_costs_two_queries(jwt_client, workspace, django_assert_num_queries, query):
    """One lean user lookup (authentication) plus the page itself: no COUNT, no N+1."""
    bulk(workspace, 120)
    first = jwt_client.get(f"{LIST}{query}").json()
    with django_assert_num_queries(2):
        response = jwt_client.get(f"{LIST}{query}")
    assert response.status_code == 200
    with django_assert_num_queries(2):
        response = jwt_client.get(first["next"])
    assert response.status_code == 200 and response.json()["results"]


@pytest.mark.django_db
def test_a_row_deleted_at_the_page_edge_does_not_break_the_walk(jwt_client, workspace):
    bulk(workspace, 30)
    page = jwt_client.get(f"{LIST}?pageSize=10&ordering=lastName").json()
    Contact.objects.filter(pk=page["results"][-1]["id"]).delete()
    rest = walk(jwt_client, page["next"])
    seen = [r["id"] for r in page["results"][:-1] + rest]
    assert seen == expected_order(workspace, "last_name", "id")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ordering", ["", "lastName", "-createdAt"])
def test_walk_has_no_gaps_or_repeats_while_rows_are_inserted(user, workspace, ordering):
    bulk(workspace, 300)
    existing = set(Contact.objects.filter(workspace=workspace).values_list("id", flat=True))
    client = jwt_client_for(user)
    stop = threading.Event()
    inserted: list[str] = []

    def insert_concurrently() -> None:
        try:
            i = 0
            while not stop.is_set():
                # Surnames that sort before, between and after the existing ones.
                contact = make_contact(
                    workspace, first_name=f"New{i}", last_name=SURNAMES[i % len(SURNAMES)] + "x"
                )
                inserted.append(contact.id)
                i += 1
        finally:
            connection.close()

    thread = threading.Thread(target=insert_concurrently)
    thread.start()
    try:
        rows = walk(client, f"{LIST}?pageSize=20" + (f"&ordering={ordering}" if ordering else ""))
    finally:
        stop.set()
        thread.join()
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "a row was returned twice"
    assert existing <= set(ids), "a row that existed before the walk was skipped"
    assert set(ids) <= existing | set(inserted)
    assert inserted, "the inserter did not run during the walk"
