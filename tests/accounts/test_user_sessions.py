"""Sessions a person can see and end: listed, continued by rotation, ended at once."""

import datetime as dt

import pytest
import time_machine

from accounts.models import RefreshTokenRecord, Session
from accounts.selectors import session_live_user, sessions_live
from accounts.services import login as services
from accounts.services import user_sessions
from activity.actor import Actor
from activity.models import ActivityEvent
from tests.accounts.helpers import (
    LOGIN,
    LOGOUT,
    LOGOUT_ALL,
    PASSWORD_URL,
    access_payload,
    claims,
    me,
    refresh,
    sign,
)
from tests.clients import HttpsAPIClient, key_client_for
from tests.factories import PASSWORD, key_for, make_user

pytestmark = pytest.mark.django_db

SESSIONS = "/api/auth/sessions/"
T0 = dt.datetime(2030, 3, 1, 8, 0, 0, tzinfo=dt.UTC)
NEW_PASSWORD = "a completely new passphrase 2030"


def bearer(token: str) -> HttpsAPIClient:
    client = HttpsAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def login_from(user, *, ip: str = "203.0.113.7", agent: str = "Firefox/140") -> dict:
    response = HttpsAPIClient().post(
        LOGIN,
        {"email": user.email, "password": PASSWORD},
        format="json",
        REMOTE_ADDR=ip,
        HTTP_USER_AGENT=agent,
    )
    assert response.status_code == 200, response.content
    return response.json()


def listed(access: str) -> list[dict]:
    response = bearer(access).get(SESSIONS)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def sid(pair: dict) -> str:
    return claims(pair["access"])["sid"]


# --- listing ---------------------------------------------------------------------------------


def test_a_login_is_listed_with_its_address_and_user_agent(user):
    with time_machine.travel(T0, tick=False):
        pair = login_from(user, ip="203.0.113.7", agent="Firefox/140")
        [session] = listed(pair["access"])
    assert session == {
        "id": sid(pair),
        "createdAt": "2030-03-01T08:00:00Z",
        "lastUsedAt": "2030-03-01T08:00:00Z",
        "expiresAt": "2030-03-31T08:00:00Z",
        "ip": "203.0.113.7",
        "userAgent": "Firefox/140",
        "current": True,
    }
    assert session["id"].startswith("ses_")


def test_sessions_are_newest_first_and_current_marks_the_callers(user):
    with time_machine.travel(T0, tick=False):
        laptop = login_from(user, agent="laptop")
    with time_machine.travel(T0 + dt.timedelta(minutes=1), tick=False):
        phone = login_from(user, agent="phone")
        from_laptop = listed(laptop["access"])
        from_phone = listed(phone["access"])
    assert [s["userAgent"] for s in from_laptop] == ["phone", "laptop"]
    assert [s["current"] for s in from_laptop] == [False, True]
    assert [s["current"] for s in from_phone] == [True, False]


def test_the_list_shows_only_the_callers_live_sessions(user, workspace):
    colleague = make_user(workspace, email="colleague@example.com")
    login_from(colleague)
    ended = login_from(user)
    bearer(ended["access"]).delete(f"{SESSIONS}{sid(ended)}/")
    mine = login_from(user)
    assert [s["id"] for s in listed(mine["access"])] == [sid(mine)]


def test_the_list_is_cursor_paginated(user):
    pairs = [login_from(user) for _ in range(3)]
    response = bearer(pairs[0]["access"]).get(SESSIONS, {"pageSize": 2})
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert len(body["results"]) == 2 and body["next"]
    rest = bearer(pairs[0]["access"]).get(body["next"]).json()
    ids = [s["id"] for s in body["results"] + rest["results"]]
    assert ids == [sid(p) for p in reversed(pairs)]


def test_rotation_keeps_the_session_and_moves_last_used(api_client, user):
    with time_machine.travel(T0, tick=False):
        pair = login_from(user)
    with time_machine.travel(T0 + dt.timedelta(hours=5), tick=False):
        rotated = refresh(api_client, pair["refresh"]).json()
        [session] = listed(rotated["access"])
    assert sid(rotated) == sid(pair) == session["id"]
    assert session["createdAt"] == "2030-03-01T08:00:00Z"
    assert session["lastUsedAt"] == "2030-03-01T13:00:00Z"
    assert session["expiresAt"] == "2030-03-31T08:00:00Z"
    assert session["current"] is True


# --- ending one ------------------------------------------------------------------------------


def test_ending_a_session_kills_its_access_and_refresh_tokens_at_once(api_client, user):
    kept = login_from(user, agent="laptop")
    lost = login_from(user, agent="stolen phone")
    assert me(lost["access"]).status_code == 200

    response = bearer(kept["access"]).delete(f"{SESSIONS}{sid(lost)}/")

    assert response.status_code == 204
    assert me(lost["access"]).status_code == 401
    assert refresh(api_client, lost["refresh"]).status_code == 401
    assert me(kept["access"]).status_code == 200
    assert [s["id"] for s in listed(kept["access"])] == [sid(kept)]
    event = ActivityEvent.objects.get(action="auth.session_revoked")
    assert (event.actor_id, event.target_type, event.target_id) == (user.pk, "session", sid(lost))


def test_ending_the_current_session_kills_the_token_that_asked(user):
    pair = login_from(user)
    assert bearer(pair["access"]).delete(f"{SESSIONS}{sid(pair)}/").status_code == 204
    assert me(pair["access"]).status_code == 401


def test_ending_a_rotated_session_kills_every_token_it_issued(api_client, user):
    first = login_from(user)
    second = refresh(api_client, first["refresh"]).json()
    assert bearer(second["access"]).delete(f"{SESSIONS}{sid(first)}/").status_code == 204
    for pair in (first, second):
        assert me(pair["access"]).status_code == 401
    assert refresh(api_client, second["refresh"]).status_code == 401


@pytest.mark.parametrize("which", ["another_persons", "ended", "garbage", "unknown", "expired"])
def test_a_session_that_is_not_one_of_the_callers_live_ones_is_404(user, outsider, which):
    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(days=31), tick=False):
        expired = login_from(user)
    caller = login_from(user)
    theirs = login_from(outsider)
    ended = login_from(user)
    assert bearer(ended["access"]).delete(f"{SESSIONS}{sid(ended)}/").status_code == 204
    target = {
        "another_persons": sid(theirs),
        "ended": sid(ended),
        "garbage": "not-a-session",
        "unknown": "ses_01HZZZZZZZZZZZZZZZZZZZZZZZ",
        "expired": sid(expired),
    }[which]
    events = ActivityEvent.objects.filter(action="auth.session_revoked")
    before = events.count()

    response = bearer(caller["access"]).delete(f"{SESSIONS}{target}/")

    assert response.status_code == 404
    assert set(response.json()) == {"detail", "code"}
    assert me(theirs["access"]).status_code == 200
    assert events.count() == before


# --- the other ways a session ends -----------------------------------------------------------


def test_logout_kills_its_sessions_access_token_at_once(api_client, user):
    pair = login_from(user)
    other = login_from(user)
    assert api_client.post(LOGOUT, {"refresh": pair["refresh"]}, format="json").status_code == 204
    assert me(pair["access"]).status_code == 401
    assert me(other["access"]).status_code == 200
    assert [s["id"] for s in listed(other["access"])] == [sid(other)]


def test_logout_of_a_rotated_token_family_ends_the_session(api_client, user):
    pair = login_from(user)
    rotated = refresh(api_client, pair["refresh"]).json()
    assert api_client.post(LOGOUT, {"refresh": pair["refresh"]}, format="json").status_code == 204
    assert me(rotated["access"]).status_code == 401
    assert ActivityEvent.objects.filter(action="auth.logout", actor=user).count() == 1


def test_refresh_reuse_ends_the_session_so_the_thiefs_access_token_dies(api_client, user):
    pair = login_from(user)
    stolen = refresh(api_client, pair["refresh"]).json()
    assert refresh(api_client, pair["refresh"]).status_code == 401  # reuse
    assert me(stolen["access"]).status_code == 401
    assert Session.objects.get(pk=sid(pair)).ended_at is not None


def test_logout_all_ends_every_session(user):
    pairs = [login_from(user) for _ in range(3)]
    assert bearer(pairs[0]["access"]).post(LOGOUT_ALL).status_code == 204
    assert not sessions_live(user=user)
    fresh = login_from(user)
    assert [s["id"] for s in listed(fresh["access"])] == [sid(fresh)]


def test_password_change_ends_every_session_and_starts_a_fresh_one(user):
    old = login_from(user)
    other = login_from(user)
    response = bearer(old["access"]).post(
        PASSWORD_URL,
        {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        format="json",
        REMOTE_ADDR="198.51.100.4",
        HTTP_USER_AGENT="settings page",
    )
    assert response.status_code == 200
    fresh = response.json()
    [session] = listed(fresh["access"])
    assert session["id"] not in {sid(old), sid(other)}
    assert (session["ip"], session["userAgent"], session["current"]) == (
        "198.51.100.4",
        "settings page",
        True,
    )


def test_deactivation_from_the_admin_ends_every_session(user, workspace):
    pairs = [login_from(user) for _ in range(2)]
    admin = make_user(workspace, email="admin@example.com", is_staff=True, is_superuser=True)
    client = HttpsAPIClient()
    client.force_login(admin)
    response = client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "email": user.email,
            "workspace": user.workspace_id,
            "first_name": user.first_name,
            "last_name": user.last_name,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    user.refresh_from_db()
    assert not user.is_active
    assert not Session.objects.filter(user=user, ended_at__isnull=True).exists()
    for pair in pairs:
        assert me(pair["access"]).status_code == 401


# --- idle timeout ----------------------------------------------------------------------------


def test_a_session_idle_longer_than_the_timeout_is_dead(api_client, user, settings):
    settings.JWT_SESSION_IDLE_TIMEOUT = 600
    with time_machine.travel(T0, tick=False):
        pair = login_from(user)
    with time_machine.travel(T0 + dt.timedelta(seconds=599), tick=False):
        assert me(pair["access"]).status_code == 200
    with time_machine.travel(T0 + dt.timedelta(seconds=601), tick=False):
        assert me(pair["access"]).status_code == 401
        assert refresh(api_client, pair["refresh"]).status_code == 401


def test_refreshing_within_the_idle_timeout_keeps_the_session_alive(api_client, user, settings):
    settings.JWT_SESSION_IDLE_TIMEOUT = 600
    with time_machine.travel(T0, tick=False):
        pair = login_from(user)
    with time_machine.travel(T0 + dt.timedelta(seconds=500), tick=False):
        pair = refresh(api_client, pair["refresh"]).json()
    with time_machine.travel(T0 + dt.timedelta(seconds=1000), tick=False):
        assert me(pair["access"]).status_code == 200
        assert refresh(api_client, pair["refresh"]).status_code == 200


def test_without_an_idle_timeout_an_unused_session_lives_until_it_expires(api_client, user):
    with time_machine.travel(T0, tick=False):
        pair = login_from(user)
    with time_machine.travel(T0 + dt.timedelta(days=29), tick=False):
        assert refresh(api_client, pair["refresh"]).status_code == 200


# --- tokens and callers that are not a person's session ----------------------------------------


def test_an_access_token_without_a_session_is_refused(user):
    import time

    payload = access_payload(user, now=int(time.time()))
    del payload["sid"]
    assert me(sign(payload)).status_code == 401


def test_an_access_token_naming_another_persons_session_is_refused(user, outsider):
    import time

    theirs = login_from(outsider)
    payload = access_payload(user, now=int(time.time()), sid=sid(theirs))
    assert me(sign(payload)).status_code == 401


@pytest.mark.parametrize("method", ["get", "delete"])
def test_api_keys_get_403_on_sessions(user, method):
    pair = login_from(user)
    client = key_client_for(key_for(user).plain)
    path = SESSIONS if method == "get" else f"{SESSIONS}{sid(pair)}/"
    response = getattr(client, method)(path)
    assert response.status_code == 403
    assert response.json()["code"] == "user_token_required"
    assert me(pair["access"]).status_code == 200


def test_sessions_without_credentials_is_401(api_client):
    response = api_client.get(SESSIONS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- the services the browser pages use --------------------------------------------------------


def test_a_browser_sign_in_is_a_listed_revocable_session_without_tokens(user):
    signed_in, session = user_sessions.browser_login(
        email=user.email.upper(), password=PASSWORD, ip="192.0.2.1", user_agent="Chromium"
    )
    assert signed_in == user and session.kind == Session.BROWSER
    assert not RefreshTokenRecord.objects.filter(user=user).exists()
    assert session_live_user(session_id=session.pk) == user
    assert ActivityEvent.objects.filter(action="auth.login", actor=user).count() == 1
    pair = login_from(user)
    assert session.pk in [s["id"] for s in listed(pair["access"])]
    assert bearer(pair["access"]).delete(f"{SESSIONS}{session.pk}/").status_code == 204
    assert session_live_user(session_id=session.pk) is None


def test_a_browser_sign_in_with_a_wrong_password_fails_like_the_api(user):
    with pytest.raises(services.LoginFailed):
        user_sessions.browser_login(email=user.email, password="nope", ip=None, user_agent="")
    assert ActivityEvent.objects.filter(action="auth.login_failed", actor=user).count() == 1
    assert not Session.objects.exists()


def test_a_browser_session_ends_with_logout_all_and_password_change(user):
    _, browser = user_sessions.browser_login(
        email=user.email, password=PASSWORD, ip=None, user_agent=""
    )
    assert bearer(login_from(user)["access"]).post(LOGOUT_ALL).status_code == 204
    assert session_live_user(session_id=browser.pk) is None
    _, browser = user_sessions.browser_login(
        email=user.email, password=PASSWORD, ip=None, user_agent=""
    )
    user.set_password(NEW_PASSWORD)
    user.save()
    assert session_live_user(session_id=browser.pk) is None


def test_the_live_user_of_an_api_session_or_garbage_is_none(user):
    pair = login_from(user)
    assert session_live_user(session_id=sid(pair)) is None
    assert session_live_user(session_id="garbage") is None


def test_the_live_user_lookup_is_one_query(user, django_assert_num_queries):
    _, browser = user_sessions.browser_login(
        email=user.email, password=PASSWORD, ip=None, user_agent=""
    )
    with django_assert_num_queries(1):
        assert session_live_user(session_id=browser.pk).workspace.name == "Acme"


def test_ending_all_other_sessions_keeps_the_current_one(user):
    keep = login_from(user)
    others = [login_from(user) for _ in range(2)]
    actor = Actor(workspace_id=user.workspace_id, user_id=user.pk)
    ended = user_sessions.sessions_end_others(user=user, keep_session_id=sid(keep), actor=actor)
    assert ended == 2
    assert [s.pk for s in sessions_live(user=user)] == [sid(keep)]
    for pair in others:
        assert me(pair["access"]).status_code == 401
    assert ActivityEvent.objects.filter(action="auth.session_revoked").count() == 2


def test_ending_a_session_through_the_service_checks_the_owner(user, outsider):
    theirs = login_from(outsider)
    actor = Actor(workspace_id=user.workspace_id, user_id=user.pk)
    with pytest.raises(user_sessions.SessionNotFound):
        user_sessions.session_end(user=user, session_id=sid(theirs), actor=actor)
    assert me(theirs["access"]).status_code == 200


def test_the_session_check_rides_on_the_one_authentication_query(
    jwt_client, django_assert_num_queries
):
    with django_assert_num_queries(1) as captured:
        assert jwt_client.get("/api/auth/me/").status_code == 200
    assert "accounts_session" in captured.captured_queries[0]["sql"]


# --- housekeeping and the migration of older families ------------------------------------------


def test_purgetokens_deletes_expired_sessions_only(user):
    from io import StringIO

    from django.core.management import call_command

    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(days=31), tick=False):
        old = login_from(user)
    alive = login_from(user)
    out = StringIO()
    call_command("purgetokens", stdout=out)
    assert "deleted 1 expired sessions" in out.getvalue()
    assert list(Session.objects.values_list("pk", flat=True)) == [sid(alive)]
    assert not RefreshTokenRecord.objects.filter(session_id=sid(old)).exists()


def test_a_live_family_from_before_sessions_gets_one_and_keeps_working(api_client, user):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0005_sessions_for_live_families")
    pair = login_from(user)
    # As before sessions existed: a family with no session.
    RefreshTokenRecord.objects.update(session=None)
    Session.objects.all().delete()
    dead = login_from(user)
    RefreshTokenRecord.objects.filter(session_id=sid(dead)).update(
        session=None, revoked_at=dt.datetime.now(dt.UTC)
    )
    Session.objects.filter(pk=sid(dead)).delete()

    migration.sessions_for_live_families(apps, None)

    [session] = Session.objects.all()
    record = RefreshTokenRecord.objects.get(jti=claims(pair["refresh"])["jti"])
    assert record.session_id == session.pk and session.user_id == user.pk
    assert int(session.expires_at.timestamp()) == record.expires_at
    rotated = refresh(api_client, pair["refresh"])
    assert rotated.status_code == 200
    assert sid(rotated.json()) == session.pk
    assert me(rotated.json()["access"]).status_code == 200
    assert me(pair["access"]).status_code == 401  # its old access token named no live session
