"""Settings → API Keys in Django's test client: list, create shown once, revoke, roll, usage."""

import re

import pytest
from django.utils import timezone

from activity.models import ActivityEvent
from apikeys.models import ApiKey
from parsalink.core.keyset import keyset_page
from tests.clients import key_client_for
from tests.factories import key_for
from tests.page_clients import HttpsClient, csrf_token_of, signed_in_client

pytestmark = pytest.mark.django_db

KEYS = "/settings/api-keys/"


@pytest.fixture
def browser(user):
    return signed_in_client(user)


ALL_SCOPES = ["contacts:read", "contacts:write", "activity:read"]


def _create(browser, name="Zapier Integration", **fields):
    """What the form sends as it comes: every scope box is checked."""
    return browser.post(KEYS, {"name": name, "scopes": ALL_SCOPES, **fields})


def _shown_key(response) -> str:
    match = re.search(r'<code id="new-api-key">(pk_live_[^<]+)</code>', response.content.decode())
    assert match, "no key in the show-once element"
    return match.group(1)


@pytest.mark.parametrize(
    "path",
    [
        KEYS,
        "/settings/api-keys/key_01HXAAAAAAAAAAAAAAAAAAAAAA/",
        "/settings/api-keys/key_01HXAAAAAAAAAAAAAAAAAAAAAA/revoke/",
        "/settings/api-keys/key_01HXAAAAAAAAAAAAAAAAAAAAAA/roll/",
        "/settings/sessions/",
        "/settings/activity/",
    ],
)
def test_signed_out_pages_redirect_to_login_with_next(path):
    response = HttpsClient().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert response["Location"].endswith(path.replace("/", "%2F")) or path in response["Location"]


def test_the_api_never_redirects_to_the_login_page():
    response = HttpsClient().get("/api/api-keys/")
    assert response.status_code == 401


def test_the_list_shows_the_workspaces_keys_and_the_create_form(browser, user, outsider):
    mine = key_for(user, name="Internal Dashboard")
    theirs = key_for(outsider, name="Outsider key")
    html = browser.get(KEYS).content.decode()
    assert "Internal Dashboard" in html and mine.api_key.prefix in html
    assert "Outsider key" not in html and theirs.api_key.prefix not in html
    assert user.email in html  # created by
    assert "Create API Key" in html and 'for="id_name"' in html


def test_creating_a_key_shows_it_once_with_no_store(browser, user):
    response = _create(browser, expires_in_days="30")
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    plain = _shown_key(response)
    assert b"it is only shown once" in response.content
    assert b"Copy the key" in response.content
    key = ApiKey.objects.get(workspace=user.workspace)
    assert key.name == "Zapier Integration" and key.expires_at is not None
    assert plain not in key.secret_hash
    event = ActivityEvent.objects.get(action="api_key.created", target_id=key.pk)
    assert event.actor_id == user.pk and event.api_key_id is None
    assert key_client_for(plain).get("/api/contacts/").status_code == 200


def test_the_key_is_never_on_a_later_page_nor_in_a_cookie_or_the_session(browser):
    response = _create(browser)
    plain = _shown_key(response)
    secret = plain.rsplit("_", 1)[-1]
    key_id = ApiKey.objects.get().pk
    later = [
        browser.get(path)
        for path in (
            KEYS,
            f"{KEYS}{key_id}/",
            f"{KEYS}{key_id}/revoke/",
            f"{KEYS}{key_id}/roll/",
            "/settings/activity/",
            "/settings/sessions/",
            "/",
        )
    ]
    for page in later:
        assert page.status_code == 200
        assert plain.encode() not in page.content and secret.encode() not in page.content
    cookies = " ".join(morsel.value for morsel in browser.cookies.values())
    assert secret not in cookies
    assert secret not in repr(dict(browser.session.items()))
    assert all(secret not in cookie.value for cookie in response.cookies.values())


def test_a_create_form_without_a_name_is_refused_with_the_form_again(browser):
    response = _create(browser, name="")
    assert response.status_code == 400
    assert b"This field is required." in response.content
    assert not ApiKey.objects.exists()


def test_the_create_form_refuses_a_post_without_its_csrf_token(user, password):
    browser = HttpsClient(enforce_csrf_checks=True)
    token = csrf_token_of(browser, "/login/")
    browser.post(
        "/login/", {"email": user.email, "password": password, "csrfmiddlewaretoken": token}
    )
    assert browser.get(KEYS).status_code == 200
    refused = _create(browser)
    assert refused.status_code == 403
    assert not ApiKey.objects.exists()
    token = csrf_token_of(browser, KEYS)
    assert _create(browser, csrfmiddlewaretoken=token).status_code == 201


def test_another_workspaces_key_is_a_404_on_every_key_page(browser, outsider):
    theirs = key_for(outsider, name="Outsider key").api_key
    for suffix in ("", "revoke/", "roll/"):
        response = browser.get(f"{KEYS}{theirs.pk}/{suffix}")
        assert response.status_code == 404
        assert b"Page not found" in response.content
    assert browser.post(f"{KEYS}{theirs.pk}/revoke/").status_code == 404
    assert browser.post(f"{KEYS}{theirs.pk}/roll/", {"expires_in": "0"}).status_code == 404
    assert browser.get(f"{KEYS}not-a-key-id/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None and theirs.expires_at is None


def test_revoking_asks_first_then_revokes_through_the_service(browser, user, api_key):
    key = api_key.api_key
    confirm = browser.get(f"{KEYS}{key.pk}/revoke/")
    assert confirm.status_code == 200 and b"stops working immediately" in confirm.content
    key.refresh_from_db()
    assert key.revoked_at is None  # the confirmation page changes nothing
    response = browser.post(f"{KEYS}{key.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == KEYS
    key.refresh_from_db()
    assert key.revoked_at is not None
    event = ActivityEvent.objects.get(action="api_key.revoked")
    assert event.actor_id == user.pk and event.target_id == key.pk
    assert key_client_for(api_key.plain).get("/api/contacts/").status_code == 401
    assert "Revoked" in browser.get(KEYS).content.decode()


def test_revoke_refuses_a_post_without_its_csrf_token(user, password, api_key):
    browser = HttpsClient(enforce_csrf_checks=True)
    token = csrf_token_of(browser, "/login/")
    browser.post(
        "/login/", {"email": user.email, "password": password, "csrfmiddlewaretoken": token}
    )
    assert browser.post(f"{KEYS}{api_key.api_key.pk}/revoke/").status_code == 403
    api_key.api_key.refresh_from_db()
    assert api_key.api_key.revoked_at is None


def test_rolling_shows_the_new_key_once_and_keeps_the_old_for_the_overlap(browser, api_key):
    old = api_key.api_key
    form = browser.get(f"{KEYS}{old.pk}/roll/")
    assert form.status_code == 200 and b"Keep the old key working for 1 day" in form.content
    response = browser.post(f"{KEYS}{old.pk}/roll/", {"expires_in": "3600"})
    assert response.status_code == 201 and "no-store" in response["Cache-Control"]
    new_plain = _shown_key(response)
    assert new_plain != api_key.plain
    old.refresh_from_db()
    remaining = (old.expires_at - timezone.now()).total_seconds()
    assert 3500 < remaining <= 3600
    assert key_client_for(api_key.plain).get("/api/contacts/").status_code == 200
    assert key_client_for(new_plain).get("/api/contacts/").status_code == 200
    assert ActivityEvent.objects.filter(action="api_key.rolled", target_id=old.pk).exists()


def test_rolling_with_an_overlap_outside_the_choices_is_refused(browser, api_key):
    response = browser.post(f"{KEYS}{api_key.api_key.pk}/roll/", {"expires_in": "604801"})
    assert response.status_code == 400
    assert ApiKey.objects.count() == 1


def test_a_revoked_key_cannot_be_rolled(browser, api_key):
    browser.post(f"{KEYS}{api_key.api_key.pk}/revoke/")
    response = browser.post(f"{KEYS}{api_key.api_key.pk}/roll/", {"expires_in": "0"}, follow=True)
    assert b"A revoked key cannot be rolled" in response.content
    assert ApiKey.objects.count() == 1


def _call(plain, path="/api/contacts/", **extra):
    return key_client_for(plain).get(path, **extra)


def test_the_usage_page_lists_requests_newest_first_and_marks_what_to_look_at(browser, api_key):
    plain = api_key.plain
    _call(plain, HTTP_USER_AGENT="zapier/1.0")
    _call(plain, HTTP_USER_AGENT="zapier/1.0")
    _call(plain, "/api/contacts/ct_01HXAAAAAAAAAAAAAAAAAAAAAA/", HTTP_USER_AGENT="zapier/1.0")
    _call(plain, HTTP_USER_AGENT="curl/8.0", REMOTE_ADDR="203.0.113.9")
    browser.post(f"{KEYS}{api_key.api_key.pk}/revoke/")
    _call(plain, HTTP_USER_AGENT="zapier/1.0")
    html = browser.get(f"{KEYS}{api_key.api_key.pk}/").content.decode()
    rows = re.findall(
        r"<tr( class=\"flagged\")?>\s*<td><time[^>]*>[^<]*</time></td>(.*?)</tr>", html, re.S
    )
    assert len(rows) == 5
    notes = [re.findall(r'class="tag [a-z]+">([^<]+)<', row) for _, row in rows]
    assert notes[0] == ["After revocation", "Refused"]  # newest first
    assert notes[1] == ["New address", "New client"]
    assert notes[2] == ["Refused"]  # the 404
    assert notes[3] == []
    assert notes[4] == ["New address", "New client"]  # the key's very first request
    assert rows[3][0] == "" and rows[0][0]


def test_the_usage_log_is_paginated(browser, api_key, monkeypatch):
    monkeypatch.setitem(keyset_page.__kwdefaults__, "size", 3)
    for _ in range(4):
        _call(api_key.plain)
    first = browser.get(f"{KEYS}{api_key.api_key.pk}/").content.decode()
    older = re.search(r'href="\?before=(\d+)"', first)
    assert older, "no link to older requests"
    second = browser.get(f"{KEYS}{api_key.api_key.pk}/?before={older.group(1)}").content.decode()
    assert second.count("<time") == 1
    assert 'href="?"' in second  # back to the newest
    assert browser.get(f"{KEYS}{api_key.api_key.pk}/?before=junk").status_code == 200
