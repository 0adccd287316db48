import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.models import Session
from django.http import HttpRequest
from django.test import Client

from accounts.models import User
from activity.models import ActivityEvent
from apikeys import crypto
from apikeys.models import ApiKey, ApiKeyUsage
from tests.clients import key_client_for

pytestmark = pytest.mark.django_db

ADD = "/admin/apikeys/apikey/add/"
CHANGELIST = "/admin/apikeys/apikey/"
KEY_RE = re.compile(r"pk_live_[0-9A-Za-z]{64}")


@pytest.fixture
def operator(workspace):
    return User.objects.create_superuser(
        "ops@example.com", "an operator password", workspace=workspace
    )


@pytest.fixture
def admin_client(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def _add(admin_client, workspace, name="From admin"):
    data = {
        "workspace": workspace.id,
        "name": name,
        "expires_at_0": "",
        "expires_at_1": "",
        "scopes": ["contacts:read", "contacts:write", "activity:read"],
    }
    response = admin_client.post(ADD, data, secure=True)
    assert response.status_code == 200, response.content  # the key page itself, no redirect
    return response


def _cookie_payloads(cookies) -> list[str]:
    """Cookie values, with Django's message cookie decoded (it is signed, not encrypted)."""
    request = HttpRequest()
    request.COOKIES = {name: morsel.value for name, morsel in cookies.items()}
    storage = CookieStorage(request)
    messages = storage._decode(request.COOKIES.get(storage.cookie_name)) or []
    return [*request.COOKIES.values(), *(message.message for message in messages)]


def test_add_shows_the_key_exactly_once_and_never_stores_it(
    admin_client, other_workspace, operator
):
    response = _add(admin_client, other_workspace)
    [plain] = KEY_RE.findall(response.content.decode())  # shown once, in the add's response
    assert "no-store" in response["Cache-Control"]
    assert not any(plain in payload for payload in _cookie_payloads(response.cookies))
    parsed = crypto.parse(plain)
    key = ApiKey.objects.get(pk=parsed.key_id)
    assert key.workspace_id == other_workspace.id and key.created_by_id == operator.id
    assert crypto.secret_matches(parsed.secret, key.secret_hash)
    for page in (CHANGELIST, f"{CHANGELIST}{key.id}/change/", "/admin/"):
        later = admin_client.get(page, secure=True)
        assert later.status_code == 200 and plain not in later.content.decode()
    assert key.id in admin_client.get(CHANGELIST, secure=True).content.decode()
    assert not any(plain in payload for payload in _cookie_payloads(admin_client.cookies))
    assert not any(
        plain in s.session_data or plain in str(s.get_decoded()) for s in Session.objects.all()
    )
    event = ActivityEvent.objects.get(action="api_key.created", target_id=key.id)
    assert (event.workspace_id, event.actor_id) == (other_workspace.id, operator.id)
    assert key_client_for(plain).get("/api/api-keys/").status_code == 403  # the key works


def test_add_requires_a_name(admin_client, workspace):
    response = admin_client.post(ADD, {"workspace": workspace.id, "name": ""}, secure=True)
    assert response.status_code == 200 and ApiKey.objects.count() == 0


def test_revoke_selected_keys_action(admin_client, workspace, api_key):
    other = _add(admin_client, workspace, name="second")
    [plain] = set(KEY_RE.findall(other.content.decode()))
    ids = [api_key.api_key.id, crypto.parse(plain).key_id]
    response = admin_client.post(
        CHANGELIST,
        {"action": "revoke_selected", "_selected_action": ids},
        secure=True,
    )
    assert response.status_code == 302
    page = admin_client.get(response["Location"], secure=True).content.decode()
    assert "Revoked 2 key(s)." in page
    assert ApiKey.objects.filter(pk__in=ids, revoked_at__isnull=False).count() == 2
    assert ActivityEvent.objects.filter(action="api_key.revoked").count() == 2
    assert key_client_for(api_key.plain).get("/api/api-keys/").json()["code"] == "key_revoked"


def test_view_only_staff_cannot_revoke_keys(workspace, api_key):
    viewer = User.objects.create_user(
        "viewer@example.com", "a viewer's long password", workspace=workspace, is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_apikey"))
    client = Client()
    client.force_login(viewer)
    page = client.get(CHANGELIST, secure=True)
    assert page.status_code == 200 and "revoke_selected" not in page.content.decode()

    client.post(
        CHANGELIST,
        {"action": "revoke_selected", "_selected_action": [api_key.api_key.id]},
        secure=True,
    )

    assert ApiKey.objects.get(pk=api_key.api_key.id).revoked_at is None
    assert key_client_for(api_key.plain).get("/api/contacts/").status_code == 200


def test_changelist_shows_the_key_columns(admin_client, api_key):
    page = admin_client.get(CHANGELIST, secure=True).content.decode()
    assert api_key.api_key.prefix in page and api_key.api_key.name in page
    assert api_key.plain not in page


def test_usage_log_is_read_only_in_admin(admin_client, key_client, api_key):
    key_client.get("/api/api-keys/")
    usage = ApiKeyUsage.objects.get()
    base = "/admin/apikeys/apikeyusage/"
    assert admin_client.get(base, secure=True).status_code == 200
    assert admin_client.get(f"{base}add/", secure=True).status_code == 403
    assert admin_client.get(f"{base}{usage.pk}/change/", secure=True).status_code == 200
    admin_client.post(f"{base}{usage.pk}/change/", {"status": 200}, secure=True)
    assert (
        admin_client.post(f"{base}{usage.pk}/delete/", {"post": "yes"}, secure=True).status_code
        == 403
    )
    assert ApiKeyUsage.objects.get().status == 403


def test_add_takes_scopes_and_allowed_addresses(admin_client, workspace):
    data = {
        "workspace": workspace.id,
        "name": "Reader",
        "expires_at_0": "",
        "expires_at_1": "",
        "scopes": ["contacts:read"],
        "allowed_ips": "203.0.113.0/24\n2001:db8::1",
    }
    assert admin_client.post(ADD, data, secure=True).status_code == 200
    key = ApiKey.objects.get(name="Reader")
    assert key.scopes == ["contacts:read"]
    assert key.allowed_ips == ["203.0.113.0/24", "2001:db8::1"]


def test_the_change_page_edits_scopes_and_addresses_through_the_service(
    admin_client, operator, api_key
):
    url = f"{CHANGELIST}{api_key.api_key.pk}/change/"
    html = admin_client.get(url, secure=True).content.decode()
    assert 'value="activity:read"' in html and 'name="allowed_ips"' in html
    data = {"name": "Renamed", "scopes": ["activity:read"], "allowed_ips": "10.0.0.0/8"}
    response = admin_client.post(url, data, secure=True)
    assert response.status_code == 302, response.content
    key = ApiKey.objects.get(pk=api_key.api_key.pk)
    assert (key.name, key.scopes, key.allowed_ips) == ("Renamed", ["activity:read"], ["10.0.0.0/8"])
    event = ActivityEvent.objects.get(action="api_key.updated")
    assert event.actor_id == operator.pk
    assert sorted(event.changes) == ["allowed_ips", "name", "scopes"]


def test_the_change_page_shows_the_same_validation_messages(admin_client, api_key):
    url = f"{CHANGELIST}{api_key.api_key.pk}/change/"
    data = {"name": "Zapier", "scopes": [], "allowed_ips": "10.0.0.1/24"}
    response = admin_client.post(url, data, secure=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "At least one scope is required." in html and "Not an address or CIDR range" in html
    key = ApiKey.objects.get(pk=api_key.api_key.pk)
    assert len(key.scopes) == 3 and key.allowed_ips == []
    assert not ActivityEvent.objects.filter(action="api_key.updated").exists()
