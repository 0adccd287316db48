"""Key scopes and address allowlists: what a key may do and where from, and editing both."""

import pytest

from activity.actor import Actor
from activity.models import ActivityEvent
from apikeys import services
from apikeys.models import ApiKey, ApiKeyUsage
from tests.clients import key_client_for
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

KEYS = "/api/api-keys/"
ALL = ["contacts:read", "contacts:write", "activity:read"]

# Every endpoint a key can reach, with the scope it needs.
ENDPOINTS = [
    ("get", "/api/contacts/", None, "contacts:read"),
    ("get", "/api/contacts/{contact}/", None, "contacts:read"),
    ("post", "/api/contacts/", {"firstName": "Ada"}, "contacts:write"),
    ("put", "/api/contacts/{contact}/", {"firstName": "Ada"}, "contacts:write"),
    ("patch", "/api/contacts/{contact}/", {"lastName": "L"}, "contacts:write"),
    ("delete", "/api/contacts/{contact}/", None, "contacts:write"),
    ("get", "/api/activity/", None, "activity:read"),
    ("get", "/api/activity/{event}/", None, "activity:read"),
]
MATRIX = [
    pytest.param(method, path, body, needed, scope, id=f"{method}-{path}-as-{scope}")
    for method, path, body, needed in ENDPOINTS
    for scope in ALL
]


def _key(user, **kwargs) -> services.CreatedKey:
    actor = Actor.system(workspace_id=user.workspace_id, user_id=user.id)
    return services.api_key_create(actor=actor, name="scoped", **kwargs)


@pytest.mark.parametrize("method,path,body,needed,scope", MATRIX)
def test_scope_matrix_allows_exactly_the_declared_scope(user, method, path, body, needed, scope):
    contact = make_contact(user.workspace, created_by=user)
    event = ActivityEvent.objects.filter(workspace_id=user.workspace_id).first()
    created = _key(user, scopes=[scope])
    url = path.format(contact=contact.pk, event=event.pk)
    response = getattr(key_client_for(created.plain), method)(url, body, format="json")
    if scope == needed:
        assert response.status_code in (200, 201, 204), response.content
    else:
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "insufficient_scope"


def test_a_key_with_every_scope_reaches_every_endpoint(user):
    contact = make_contact(user.workspace, created_by=user)
    event = ActivityEvent.objects.filter(workspace_id=user.workspace_id).first()
    client = key_client_for(_key(user).plain)
    for method, path, body, _ in ENDPOINTS:
        url = path.format(contact=contact.pk, event=event.pk)
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code in (200, 201, 204), (method, url, response.content)


def test_jwt_callers_are_not_subject_to_scopes(jwt_client, user):
    assert jwt_client.get("/api/contacts/").status_code == 200
    assert jwt_client.post("/api/contacts/", {"firstName": "A"}, format="json").status_code == 201
    assert jwt_client.get("/api/activity/").status_code == 200


def test_every_key_reachable_view_declares_a_scope_for_each_action():
    """Fail closed: a DRF view that accepts keys must name the scope of each of its actions."""
    from django.urls import get_resolver

    from apikeys.authentication import ApiKeyAuthentication
    from parsalink.core.permissions import ALL_SCOPES, IsPerson, KeyScope

    seen = []

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
                continue
            cls = getattr(pattern.callback, "cls", None)
            actions = getattr(pattern.callback, "actions", None)
            if cls is None or not actions:
                continue
            for http_method, action in actions.items():
                handler = getattr(cls, action)
                kwargs = getattr(handler, "kwargs", {})
                auth = kwargs.get("authentication_classes", cls.authentication_classes)
                perms = kwargs.get("permission_classes", cls.permission_classes)
                if not any(issubclass(a, ApiKeyAuthentication) for a in auth):
                    continue
                if any(issubclass(p, IsPerson) for p in perms):
                    continue
                assert any(issubclass(p, KeyScope) for p in perms), (cls, action)
                assert getattr(cls, "required_scopes", {}).get(action) in ALL_SCOPES, (cls, action)
                seen.append((cls.__name__, action))

    walk(get_resolver().url_patterns)
    assert ("ContactViewSet", "destroy") in seen and ("ActivityViewSet", "list") in seen


# --- allowlists ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "allowed,remote,ok",
    [
        (["203.0.113.7"], "203.0.113.7", True),
        (["203.0.113.7"], "203.0.113.8", False),
        (["203.0.113.0/24"], "203.0.113.200", True),
        (["203.0.113.0/24"], "198.51.100.1", False),
        (["2001:db8::1"], "2001:db8::1", True),
        (["2001:db8::1"], "2001:db8::2", False),
        (["2001:db8::/32"], "2001:db8:ffff::9", True),
        (["2001:db8::/32"], "2001:db9::1", False),
        (["2001:db8::/32", "10.0.0.0/8"], "10.1.2.3", True),
        ([], "198.51.100.1", True),
    ],
    ids=[
        "ipv4-exact",
        "ipv4-other",
        "ipv4-range-in",
        "ipv4-range-out",
        "ipv6-exact",
        "ipv6-other",
        "ipv6-range-in",
        "ipv6-range-out",
        "mixed-list",
        "empty-list-any-address",
    ],
)
def test_allowlist_admits_listed_addresses_only(user, allowed, remote, ok):
    created = _key(user, allowed_ips=allowed)
    response = key_client_for(created.plain).get("/api/contacts/", REMOTE_ADDR=remote)
    if ok:
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "ip_not_allowed"


def test_forwarded_for_is_believed_from_the_trusted_proxy_only(user, settings):
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.2"]
    client = key_client_for(_key(user, allowed_ips=["203.0.113.7"]).plain)
    via_proxy = client.get(
        "/api/contacts/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    assert via_proxy.status_code == 200
    spoofed = client.get(
        "/api/contacts/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    assert spoofed.status_code == 403 and spoofed.json()["code"] == "ip_not_allowed"
    # A client-supplied entry before the proxy's own is not believed either.
    prepended = client.get(
        "/api/contacts/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.7, 198.51.100.9",
    )
    assert prepended.status_code == 403


def test_both_refusals_land_in_the_usage_log(user):
    created = _key(user, scopes=["contacts:read"], allowed_ips=["203.0.113.7"])
    client = key_client_for(created.plain)
    client.get("/api/contacts/", REMOTE_ADDR="198.51.100.1")
    client.get("/api/activity/", REMOTE_ADDR="203.0.113.7")
    rows = ApiKeyUsage.objects.filter(api_key_id=created.api_key.pk).order_by("id")
    assert [(r.path, r.status, r.ip) for r in rows] == [
        ("/api/contacts/", 403, "198.51.100.1"),
        ("/api/activity/", 403, "203.0.113.7"),
    ]


def test_a_wrong_secret_from_outside_the_allowlist_is_still_a_401(user):
    created = _key(user, allowed_ips=["203.0.113.7"])
    wrong = created.plain[:-8] + ("A" if created.plain[-8] != "A" else "B") + created.plain[-7:]
    response = key_client_for(wrong).get("/api/contacts/", REMOTE_ADDR="198.51.100.1")
    assert response.status_code == 401


# --- create and PATCH ----------------------------------------------------------------------


def test_create_accepts_scopes_and_allowed_ips(jwt_client):
    body = jwt_client.post(
        KEYS,
        {
            "name": "Zapier",
            "scopes": ["contacts:read", "contacts:read"],
            "allowedIps": ["2001:DB8::1", "203.0.113.0/24"],
        },
        format="json",
    ).json()
    assert body["scopes"] == ["contacts:read"]
    assert body["allowedIps"] == ["2001:db8::1", "203.0.113.0/24"]
    assert jwt_client.get(f"{KEYS}{body['id']}/").json()["scopes"] == ["contacts:read"]


def test_a_key_defaults_to_every_scope_and_any_address(jwt_client):
    body = jwt_client.post(KEYS, {"name": "Zapier"}, format="json").json()
    assert (body["scopes"], body["allowedIps"]) == (ALL, [])


def test_patch_changes_the_key_and_records_the_changed_fields(jwt_client, user):
    created = _key(user)
    url = f"{KEYS}{created.api_key.pk}/"
    response = jwt_client.patch(
        url, {"name": "renamed", "scopes": ["activity:read"], "allowedIps": []}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["scopes"], body["allowedIps"]) == ("renamed", ["activity:read"], [])
    event = ActivityEvent.objects.get(action="api_key.updated")
    assert (event.actor_id, event.target_id) == (user.id, created.api_key.pk)
    assert sorted(event.changes) == ["name", "scopes"]


def test_patch_is_in_force_on_the_very_next_request(jwt_client, user):
    created = _key(user)
    client = key_client_for(created.plain)
    assert client.get("/api/contacts/").status_code == 200
    jwt_client.patch(f"{KEYS}{created.api_key.pk}/", {"scopes": ["activity:read"]}, format="json")
    assert client.get("/api/contacts/").json()["code"] == "insufficient_scope"
    jwt_client.patch(f"{KEYS}{created.api_key.pk}/", {"allowedIps": ["203.0.113.7"]}, format="json")
    refused = client.get("/api/activity/", REMOTE_ADDR="198.51.100.1")
    assert refused.json()["code"] == "ip_not_allowed"


def test_patch_by_a_key_is_refused_and_another_workspace_is_404(
    key_client, api_key, outsider_jwt_client
):
    url = f"{KEYS}{api_key.api_key.pk}/"
    response = key_client.patch(url, {"name": "x"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "user_token_required"
    assert outsider_jwt_client.patch(url, {"name": "x"}, format="json").status_code == 404
    assert ApiKey.objects.get(pk=api_key.api_key.pk).name == "Zapier"


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"scopes": ["contacts:delete"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"scopes": "contacts:read"}, "scopes"),
        ({"allowedIps": ["not-an-ip"]}, "allowedIps"),
        ({"allowedIps": ["10.0.0.1/24"]}, "allowedIps"),
        ({"allowedIps": ["10.0.0.0/33"]}, "allowedIps"),
        ({"allowedIps": [f"10.0.0.{i}" for i in range(51)]}, "allowedIps"),
        ({"allowedIps": "10.0.0.1"}, "allowedIps"),
        ({"name": ""}, "name"),
        ({"expiresAt": None}, None),
    ],
    ids=[
        "unknown-scope",
        "empty-scopes",
        "scopes-not-a-list",
        "bad-address",
        "cidr-host-bits",
        "bad-prefix",
        "51-entries",
        "ips-not-a-list",
        "blank-name",
        "unknown-field",
    ],
)
def test_patch_rejects_bad_input_and_changes_nothing(jwt_client, user, payload, field):
    created = _key(user)
    response = jwt_client.patch(f"{KEYS}{created.api_key.pk}/", payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    if field:
        assert field in response.json()["fields"]
    fresh = ApiKey.objects.get(pk=created.api_key.pk)
    assert (fresh.name, fresh.scopes, fresh.allowed_ips) == ("scoped", ALL, [])
    assert not ActivityEvent.objects.filter(action="api_key.updated").exists()


def test_fifty_distinct_entries_are_accepted(jwt_client, user):
    created = _key(user)
    ips = [f"10.0.0.{i}" for i in range(50)]
    response = jwt_client.patch(f"{KEYS}{created.api_key.pk}/", {"allowedIps": ips}, format="json")
    assert response.status_code == 200 and len(response.json()["allowedIps"]) == 50


def test_roll_keeps_scopes_and_allowed_ips(jwt_client, user):
    created = _key(user, scopes=["contacts:read"], allowed_ips=["203.0.113.0/24"])
    body = jwt_client.post(f"{KEYS}{created.api_key.pk}/roll/", {}, format="json").json()
    assert (body["scopes"], body["allowedIps"]) == (["contacts:read"], ["203.0.113.0/24"])
