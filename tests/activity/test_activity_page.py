"""Settings → Activity: the workspace's log, newest first, paginated, filtered by action and key."""

import re

import pytest

from parsalink.core.keyset import keyset_page
from tests.clients import key_client_for
from tests.factories import key_for
from tests.page_clients import HttpsClient, signed_in_client

pytestmark = pytest.mark.django_db

ACTIVITY = "/settings/activity/"


def _actions(response) -> list[str]:
    return re.findall(r'<td class="mono">([a-z_]+\.[a-z_]+)</td>', response.content.decode())


@pytest.fixture
def browser(user):
    return signed_in_client(user)


def test_the_log_is_the_workspaces_newest_first(browser, user, outsider):
    key = key_for(user, name="Zapier")
    key_client_for(key.plain).post("/api/contacts/", {"firstName": "Ada"}, format="json")
    signed_in_client(outsider)
    actions = _actions(browser.get(ACTIVITY))
    assert actions == ["contact.created", "api_key.created", "auth.login"]


def test_the_log_filters_by_action_and_by_key(browser, user):
    zapier = key_for(user, name="Zapier")
    dashboard = key_for(user, name="Dashboard")
    key_client_for(zapier.plain).post("/api/contacts/", {"firstName": "Ada"}, format="json")
    key_client_for(dashboard.plain).post("/api/contacts/", {"firstName": "Bob"}, format="json")
    by_action = browser.get(ACTIVITY, {"action": "api_key.created"})
    assert _actions(by_action) == ["api_key.created", "api_key.created"]
    by_key = browser.get(ACTIVITY, {"key": zapier.api_key.pk})
    assert _actions(by_key) == ["contact.created"]
    assert zapier.api_key.pk in by_key.content.decode()


def test_an_unknown_filter_value_is_refused_with_the_form(browser, outsider):
    theirs = key_for(outsider, name="Outsider key")
    assert browser.get(ACTIVITY, {"key": theirs.api_key.pk}).status_code == 400
    assert browser.get(ACTIVITY, {"action": "drop table"}).status_code == 400


def test_the_log_is_paginated_and_keeps_its_filters(browser, user, monkeypatch):
    monkeypatch.setitem(keyset_page.__kwdefaults__, "size", 2)
    for name in ("a", "b", "c"):
        key_for(user, name=name)
    first = browser.get(ACTIVITY, {"action": "api_key.created"})
    assert len(_actions(first)) == 2
    older = re.search(
        r'href="\?(action=api_key.created&amp;before=evt_[^"]+)"', first.content.decode()
    )
    assert older, "no link to older events"
    second = browser.get(f"{ACTIVITY}?{older.group(1).replace('&amp;', '&')}")
    assert _actions(second) == ["api_key.created"]


def test_signed_out_the_log_redirects_to_login():
    assert HttpsClient().get(ACTIVITY)["Location"] == "/login/?next=/settings/activity/"
