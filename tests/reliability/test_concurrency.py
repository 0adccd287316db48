"""Concurrency against a live gunicorn with 4 workers x 4 threads (16 requests in flight):

- N simultaneous refreshes of one token: exactly one succeeds, every time;
- a key revoked while 8 clients hammer with it: nothing is accepted after the revoke returned;
- contacts: concurrent PATCHes of different fields all persist (a PATCH writes only the fields
  it names); concurrent PATCHes of one field: the last writer wins and every acknowledged
  change is in the activity log; concurrent creates all persist.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from accounts.models import RefreshTokenRecord
from activity.models import ActivityEvent
from apikeys.models import ApiKeyUsage
from contacts.models import Contact
from tests.factories import PASSWORD, make_user, make_workspace
from tests.reliability.harness import (
    OPEN_THROTTLES,
    SUMMARY,
    Client,
    Hammer,
    Outcome,
    create_api_key,
    live_server,
    login,
)

pytestmark = pytest.mark.django_db(transaction=True)

REFRESH_RACERS = 50
REFRESH_ROUNDS = 20


def _server():
    return live_server(workers=4, threads=4, env=OPEN_THROTTLES)


def _race(clients: list[Client], send) -> list:
    """Release every client at once (a barrier) and collect what each got back."""
    barrier = threading.Barrier(len(clients))

    def one(index: int):
        barrier.wait()
        try:
            return send(clients[index], index)
        except requests.RequestException as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        return list(pool.map(one, range(len(clients))))


def _warm(clients: list[Client]) -> None:
    """Open every keep-alive connection first, so the race is the requests, not TCP setup."""
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        list(pool.map(lambda c: c.get("/healthz"), clients))


def test_of_50_simultaneous_refreshes_of_one_token_exactly_one_succeeds_20_times():
    user = make_user(make_workspace("Race"), email="racer@race.example")
    with _server() as server:
        clients = [Client(server.url) for _ in range(REFRESH_RACERS)]
        _warm(clients)
        outcomes = []
        for _ in range(REFRESH_ROUNDS):
            refresh = login(server.url, user.email, PASSWORD)["refresh"]
            results = _race(
                clients,
                lambda c, i: c.post("/api/auth/token/refresh/", json={"refresh": refresh}),
            )
            statuses = sorted(str(getattr(r, "status_code", repr(r))) for r in results)
            outcomes.append(statuses)
            winners = [r for r in results if getattr(r, "status_code", 0) == 200]
            assert statuses.count("200") == 1, str(statuses)
            assert statuses.count("401") == REFRESH_RACERS - 1, str(statuses)
            # One descendant only; the reuse the losers represent revoked the whole family.
            record = RefreshTokenRecord.objects.get(jti=_jti(refresh))
            family = RefreshTokenRecord.objects.filter(family_id=record.family_id)
            assert family.count() == 2
            assert not family.filter(revoked_at__isnull=True).exists()
            new_refresh = winners[0].json()["refresh"]
            dead = clients[0].post("/api/auth/token/refresh/", json={"refresh": new_refresh})
            assert dead.status_code == 401
        for client in clients:
            client.close()
    SUMMARY.append(
        f"refresh race: {REFRESH_ROUNDS} rounds x {REFRESH_RACERS} simultaneous refreshes -> "
        "exactly one 200 each round, the rest 401"
    )


def _jti(token: str) -> str:
    import jwt

    return jwt.decode(token, options={"verify_signature": False})["jti"]


def test_no_request_with_a_key_is_accepted_after_its_revocation_returned():
    owner = make_user(make_workspace("Revoke"), email="owner@revoke.example")
    with _server() as server:
        access = login(server.url, owner.email, PASSWORD)["access"]
        created = create_api_key(server.url, access, "hammered")
        key = created["key"]

        def hammer(h: Hammer, client: Client, index: int) -> None:
            h.call(client, "GET", "/api/contacts/", headers={"Authorization": f"Bearer {key}"})

        with Hammer(server.url, 8, hammer) as load, Client(server.url, token=access) as admin:
            time.sleep(1.5)
            revoke_sent = time.monotonic()
            response = admin.post(f"/api/api-keys/{created['id']}/revoke/")
            revoke_returned = time.monotonic()
            assert response.status_code == 200, response.text
            time.sleep(1.5)
        outcomes: list[Outcome] = load.outcomes
    accepted_before = [o for o in outcomes if o.status == 200 and o.finished < revoke_sent]
    after = [o for o in outcomes if o.started > revoke_returned]
    accepted_after = [o for o in after if o.status is None or o.status < 400]
    assert accepted_before, "the key never worked: the test proves nothing"
    assert after, "no request was sent after the revocation"
    assert not accepted_after, f"{len(accepted_after)} requests accepted after the revoke"
    assert {o.status for o in after} == {401}
    in_flight = [o for o in outcomes if o.started <= revoke_returned < o.finished]
    SUMMARY.append(
        f"revocation: {len(outcomes)} requests by 8 clients; {len(accepted_before)} accepted "
        f"before, {len(after)} sent after the revoke returned, all 401; {len(in_flight)} in "
        "flight during the revoke call"
    )
    # The usage log holds every one of them, the refusals included.
    assert ApiKeyUsage.objects.filter(api_key_id=created["id"]).count() == len(outcomes)
    assert ApiKeyUsage.objects.filter(api_key_id=created["id"], status=401).count() >= len(after)


CONTACT_FIELDS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "email": "email",
    "phone": "phone",
    "company": "company",
    "notes": "notes",
}


def _value(field: str, round_: int, writer: int = 0) -> str:
    if field == "email":
        return f"r{round_}w{writer}@example.com"
    return f"{field}-{round_}-{writer}"


def test_concurrent_patches_of_different_fields_never_lose_an_update():
    """Promise: a PATCH writes only the fields it names, so simultaneous PATCHes of different
    fields all persist."""
    owner = make_user(make_workspace("Patch"), email="owner@patch.example")
    with _server() as server:
        access = login(server.url, owner.email, PASSWORD)["access"]
        clients = [Client(server.url, token=access) for _ in CONTACT_FIELDS]
        _warm(clients)
        contact = clients[0].post("/api/contacts/", json={"firstName": "Start"}).json()
        fields = list(CONTACT_FIELDS)
        for round_ in range(15):
            results = _race(
                clients,
                lambda c, i, r=round_: c.patch(
                    f"/api/contacts/{contact['id']}/", json={fields[i]: _value(fields[i], r)}
                ),
            )
            assert [r.status_code for r in results] == [200] * len(fields)
            stored = clients[0].get(f"/api/contacts/{contact['id']}/").json()
            assert {f: stored[f] for f in fields} == {f: _value(f, round_) for f in fields}
        for client in clients:
            client.close()
    assert ActivityEvent.objects.filter(
        action="contact.updated", target_id=contact["id"]
    ).count() == (15 * len(fields))


def test_concurrent_patches_of_one_field_last_writer_wins_and_each_is_logged():
    owner = make_user(make_workspace("Same"), email="owner@same.example")
    with _server() as server:
        access = login(server.url, owner.email, PASSWORD)["access"]
        clients = [Client(server.url, token=access) for _ in range(12)]
        _warm(clients)
        contact = clients[0].post("/api/contacts/", json={"firstName": "Start"}).json()
        for round_ in range(10):
            results = _race(
                clients,
                lambda c, i, r=round_: c.patch(
                    f"/api/contacts/{contact['id']}/", json={"company": f"co-{r}-{i}"}
                ),
            )
            assert {r.status_code for r in results} == {200}
            stored = clients[0].get(f"/api/contacts/{contact['id']}/").json()
            assert stored["company"] in {f"co-{round_}-{i}" for i in range(len(clients))}
            assert stored["firstName"] == "Start"
        for client in clients:
            client.close()
    events = ActivityEvent.objects.filter(action="contact.updated", target_id=contact["id"])
    assert events.count() == 10 * 12  # every acknowledged change recorded


def test_concurrent_creates_all_persist():
    owner = make_user(make_workspace("Create"), email="owner@create.example")
    with _server() as server:
        access = login(server.url, owner.email, PASSWORD)["access"]
        clients = [Client(server.url, token=access) for _ in range(50)]
        _warm(clients)
        created = []
        for round_ in range(2):
            results = _race(
                clients,
                lambda c, i, r=round_: c.post(
                    "/api/contacts/", json={"firstName": f"C{r}-{i}", "company": "Parallel"}
                ),
            )
            assert [r.status_code for r in results] == [201] * len(clients)
            created += [r.json()["id"] for r in results]
        listed, url = [], "/api/contacts/?pageSize=200"
        while url:
            page = clients[0].get(url).json()
            listed += [item["id"] for item in page["results"]]
            url = page["next"]
        for client in clients:
            client.close()
    assert len(set(created)) == len(created) == 100
    assert set(listed) == set(created)
    assert Contact.objects.filter(pk__in=created).count() == 100
