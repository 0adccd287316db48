"""Settings → API Keys: scopes and allowed addresses on the create form and the key's page."""

import pytest

from activity.models import ActivityEvent
from apikeys.models import ApiKey
from tests.clients import key_client_for
from tests.factories import key_for
from tests.page_clients import HttpsClient, csrf_token_of, signed_in_client

pytestmark = pytest.mark.django_db

KEYS = "/settings/api-keys/"


@pytest.fixture
def browser(user):
    return signed_in_client(user)


def _page(api_key) -> str:
    return f"{KEYS}{api_key.pk}/"


def _edit(browser, api_key, **fields):
    data = {"name": api_key.name, "scopes": list(api_key.scopes), "allowed_ips": ""}
    return browser.post(_page(api_key), {**data, **fields})


def test_the_create_form_offers_every_scope_checked_and_an_address_box(browser):
    html = browser.get(KEYS).content.decode()
    for scope in ("contacts:read", "contacts:write", "activity:read"):
        assert f'value="{scope}"' in html
    assert html.count('name="scopes"') == 3 and html.count("checked") >= 3
    assert '<textarea name="allowed_ips"' in html


def test_creating_a_key_with_one_scope_and_addresses(browser):
    response = browser.post(
        KEYS,
        {
            "name": "Zapier",
            "scopes": ["contacts:read"],
            "allowed_ips": "203.0.113.7\n2001:db8::/32, 10.0.0.0/8\n",
        },
    )
    assert response.status_code == 201
    key = ApiKey.objects.get()
    assert key.scopes == ["contacts:read"]
    assert key.allowed_ips == [
        "203.0.113.7",
        "2001:db8::/32",
        "10.0.0.0/8",
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"scopes": []}, "At least one scope is required."),
        ({"scopes": ["contacts:read"], "allowed_ips": "not-an-address"}, "Not an address or CIDR"),
        ({"scopes": ["contacts:read"], "allowed_ips": "10.0.0.1/24"}, "Not an address or CIDR"),
        (
            {
                "scopes": ["contacts:read"],
                "allowed_ips": "\n".join(f"10.0.0.{i}" for i in range(51)),
            },
            "At most 50 entries.",
        ),
        ({"scopes": ["contacts:delete"]}, "Select a valid choice."),
    ],
)
def test_the_create_form_shows_why_it_refuses(browser, fields, message):
    response = browser.post(KEYS, {"name": "Zapier", **fields})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiKey.objects.exists()


def test_the_list_shows_each_keys_scopes(browser, user):
    browser.post(KEYS, {"name": "Reader", "scopes": ["contacts:read"]})
    html = browser.get(KEYS).content.decode()
    assert "contacts:read" in html and "contacts:read, contacts:write" not in html


def test_the_key_page_shows_and_edits_scopes_and_addresses(browser, user, api_key):
    key = api_key.api_key
    html = browser.get(_page(key)).content.decode()
    assert "contacts:read, contacts:write, activity:read" in html and "any address" in html
    response = _edit(browser, key, scopes=["activity:read"], allowed_ips="198.51.100.0/24")
    assert response.status_code == 302 and response["Location"] == _page(key)
    key.refresh_from_db()
    assert key.scopes == ["activity:read"] and key.allowed_ips == ["198.51.100.0/24"]
    event = ActivityEvent.objects.get(action="api_key.updated")
    assert event.actor_id == user.id and sorted(event.changes) == ["allowed_ips", "scopes"]
    html = browser.get(_page(key)).content.decode()
    assert "198.51.100.0/24" in html and "is saved" in html
    # In force from the next request: the test client is not in 198.51.100.0/24.
    refused = key_client_for(api_key.plain).get("/api/contacts/")
    assert refused.status_code == 403 and refused.json()["code"] == "ip_not_allowed"


def test_an_unchanged_edit_records_nothing(browser, api_key):
    assert _edit(browser, api_key.api_key).status_code == 302
    assert not ActivityEvent.objects.filter(action="api_key.updated").exists()


def test_an_invalid_edit_is_shown_and_changes_nothing(browser, api_key):
    key = api_key.api_key
    response = _edit(browser, key, name="Renamed", allowed_ips="300.1.2.3")
    assert response.status_code == 400
    assert "Not an address or CIDR range" in response.content.decode()
    key.refresh_from_db()
    assert key.name == "Zapier" and key.allowed_ips == []


def test_another_workspaces_key_cannot_be_edited(browser, outsider):
    theirs = key_for(outsider, name="Theirs").api_key
    response = _edit(browser, theirs, scopes=["contacts:read"])
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.scopes == ["contacts:read", "contacts:write", "activity:read"]


def test_editing_needs_the_csrf_token(user, password, api_key):
    key = api_key.api_key
    browser = HttpsClient(enforce_csrf_checks=True)
    token = csrf_token_of(browser, "/login/")
    browser.post(
        "/login/", {"email": user.email, "password": password, "csrfmiddlewaretoken": token}
    )
    assert _edit(browser, key, scopes=["contacts:read"]).status_code == 403
    key.refresh_from_db()
    assert len(key.scopes) == 3
    token = csrf_token_of(browser, _page(key))
    assert (
        _edit(browser, key, scopes=["contacts:read"], csrfmiddlewaretoken=token).status_code == 302
    )


def test_a_leak_revoked_key_shows_why_on_its_page(browser, api_client, api_key):
    source = "https://github.com/acme/app/blob/main/.env"
    api_client.post(
        "/api/api-keys/leaked/", {"keys": [api_key.plain], "source": source}, format="json"
    )
    html = browser.get(_page(api_key.api_key)).content.decode()
    assert "A leak was reported" in html and source in html
    assert 'id="settings"' not in html  # a revoked key has nothing left to edit
    assert "(leak reported)" in browser.get(KEYS).content.decode()
