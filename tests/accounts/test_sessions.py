"""Logout, logout-all, password change, deactivation and /me: what kills which tokens."""

import datetime as dt

import pytest
import time_machine

from accounts.models import RefreshTokenRecord
from accounts.services import users
from activity.actor import Actor
from activity.models import ActivityEvent
from tests.accounts.helpers import (
    LOGOUT,
    LOGOUT_ALL,
    PASSWORD_URL,
    claims,
    login,
    me,
    refresh,
    sign,
)
from tests.clients import HttpsAPIClient
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2030, 3, 1, 8, 0, 0, tzinfo=dt.UTC)
NEW_PASSWORD = "a completely new passphrase 2030"


def bearer(token: str) -> HttpsAPIClient:
    client = HttpsAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


# --- logout ----------------------------------------------------------------------------------


def test_logout_kills_the_family_without_an_access_token(api_client, user):
    first = login(api_client, user)["refresh"]
    newest = refresh(api_client, first).json()["refresh"]
    response = api_client.post(LOGOUT, {"refresh": newest}, format="json")
    assert response.status_code == 204
    assert refresh(api_client, newest).status_code == 401
    assert not RefreshTokenRecord.objects.filter(
        family_id=claims(first)["jti"], revoked_at__isnull=True
    ).exists()
    assert ActivityEvent.objects.filter(action="auth.logout", actor=user).count() == 1


def test_logout_leaves_other_sessions_alone(api_client, user):
    mine = login(api_client, user)["refresh"]
    other = login(api_client, user)["refresh"]
    assert api_client.post(LOGOUT, {"refresh": mine}, format="json").status_code == 204
    assert refresh(api_client, other).status_code == 200


def test_logout_of_an_already_dead_genuine_token_is_204(api_client, user):
    token = login(api_client, user)["refresh"]
    assert api_client.post(LOGOUT, {"refresh": token}, format="json").status_code == 204
    assert api_client.post(LOGOUT, {"refresh": token}, format="json").status_code == 204


def test_logout_of_an_expired_genuine_token_is_204(api_client, user):
    with time_machine.travel(T0, tick=False):
        token = login(api_client, user)["refresh"]
    with time_machine.travel(T0 + dt.timedelta(days=31), tick=False):
        assert api_client.post(LOGOUT, {"refresh": token}, format="json").status_code == 204


@pytest.mark.parametrize("kind", ["garbage", "forged", "access_token"])
def test_logout_with_a_forged_or_garbage_token_is_401(api_client, user, kind):
    genuine = login(api_client, user)
    token = {
        "garbage": "not.a.token",
        "forged": sign(claims(genuine["refresh"]), key="attacker-key-" * 3),
        "access_token": genuine["access"],
    }[kind]
    response = api_client.post(LOGOUT, {"refresh": token}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert refresh(api_client, genuine["refresh"]).status_code == 200


# --- logout-all ------------------------------------------------------------------------------


def test_logout_all_kills_every_token_of_the_user_at_once(api_client, user):
    sessions = [login(api_client, user) for _ in range(3)]
    rotated = refresh(api_client, sessions[0]["refresh"]).json()

    response = bearer(sessions[1]["access"]).post(LOGOUT_ALL)

    assert response.status_code == 204
    for pair in [*sessions, rotated]:
        assert me(pair["access"]).status_code == 401
        assert refresh(api_client, pair["refresh"]).status_code == 401
    assert not RefreshTokenRecord.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert ActivityEvent.objects.filter(action="auth.logout_all", actor=user).count() == 1


def test_logout_all_kills_a_token_issued_a_millisecond_earlier_and_login_works_after(
    api_client, user
):
    with time_machine.travel(T0, tick=False):
        early = login(api_client, user)
    with time_machine.travel(T0 + dt.timedelta(milliseconds=1), tick=False):
        assert bearer(early["access"]).post(LOGOUT_ALL).status_code == 204
        # Same millisecond as the logout-all: the new session must be alive.
        fresh = login(api_client, user)
        assert me(fresh["access"]).status_code == 200
        assert me(early["access"]).status_code == 401
    with time_machine.travel(T0 + dt.timedelta(seconds=1), tick=False):
        assert refresh(api_client, fresh["refresh"]).status_code == 200


def test_logout_all_leaves_other_users_alone(api_client, user, workspace):
    from tests.factories import make_user

    colleague = make_user(workspace, email="colleague@example.com")
    theirs = login(api_client, colleague)
    mine = login(api_client, user)
    assert bearer(mine["access"]).post(LOGOUT_ALL).status_code == 204
    assert me(theirs["access"]).status_code == 200
    assert refresh(api_client, theirs["refresh"]).status_code == 200


def test_logout_all_without_credentials_is_401(api_client):
    response = api_client.post(LOGOUT_ALL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- password change -------------------------------------------------------------------------


def test_password_change_returns_a_fresh_pair_and_kills_older_tokens(api_client, user):
    old = login(api_client, user)
    other_device = login(api_client, user)

    response = bearer(old["access"]).post(
        PASSWORD_URL,
        {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 200
    pair = response.json()
    assert set(pair) == {"access", "refresh"}
    assert me(pair["access"]).status_code == 200
    for stale in (old, other_device):
        assert me(stale["access"]).status_code == 401
        assert refresh(api_client, stale["refresh"]).status_code == 401
    assert refresh(api_client, pair["refresh"]).status_code == 200
    assert (
        api_client.post(
            "/api/auth/login/", {"email": user.email, "password": PASSWORD}, format="json"
        ).status_code
        == 401
    )
    login(api_client, user, password=NEW_PASSWORD)
    assert ActivityEvent.objects.filter(action="auth.password_changed", actor=user).exists()


def test_password_change_with_wrong_current_password_is_400(jwt_client, tokens):
    response = jwt_client.post(
        PASSWORD_URL,
        {"currentPassword": "not my password", "newPassword": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "currentPassword" in body["fields"]
    assert me(tokens["access"]).status_code == 200


@pytest.mark.parametrize("weak", ["short", "password123", "12345678901", "jane@example.com"])
def test_password_change_to_a_weak_password_is_400(jwt_client, tokens, weak):
    response = jwt_client.post(
        PASSWORD_URL, {"currentPassword": PASSWORD, "newPassword": weak}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"]["newPassword"]
    assert me(tokens["access"]).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{}, {"currentPassword": PASSWORD}, {"currentPassword": 1, "newPassword": [NEW_PASSWORD]}],
    ids=["empty", "no_new", "wrong_types"],
)
def test_malformed_password_change_is_400(jwt_client, body):
    response = jwt_client.post(PASSWORD_URL, body, format="json")
    assert response.status_code == 400
    assert {"detail", "code", "fields"} <= set(response.json())


# --- deactivation and deletion -----------------------------------------------------------------


def test_deactivation_kills_access_and_refresh_tokens_at_once(api_client, user):
    pair = login(api_client, user)
    users.user_deactivate(user=user, actor=Actor.system(workspace_id=user.workspace_id))
    assert me(pair["access"]).status_code == 401
    assert refresh(api_client, pair["refresh"]).status_code == 401


def test_reactivated_user_needs_a_new_login(api_client, user):
    pair = login(api_client, user)
    users.user_deactivate(user=user, actor=Actor.system(workspace_id=user.workspace_id))
    user.is_active = True
    user.save(update_fields=["is_active"])
    assert me(pair["access"]).status_code == 401
    assert me(login(api_client, user)["access"]).status_code == 200


def test_deleted_user_tokens_are_401_not_500(api_client, user):
    pair = login(api_client, user)
    user.delete()
    assert me(pair["access"]).status_code == 401
    assert refresh(api_client, pair["refresh"]).status_code == 401
    assert api_client.post(LOGOUT, {"refresh": pair["refresh"]}, format="json").status_code == 204


# --- me --------------------------------------------------------------------------------------


def test_me_returns_the_login_user_object(jwt_client, tokens):
    response = jwt_client.get("/api/auth/me/")
    assert response.status_code == 200
    assert response.json() == tokens["user"]


def test_me_without_credentials_is_401(api_client):
    response = api_client.get("/api/auth/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- API keys are not people -------------------------------------------------------------------


@pytest.fixture
def api_key(user) -> str:
    from apikeys.services import api_key_create

    actor = Actor.system(workspace_id=user.workspace_id, user_id=user.pk)
    return api_key_create(actor=actor, name="Integration").plain


def test_the_api_key_is_valid_elsewhere(api_key):
    assert bearer(api_key).get("/api/activity/").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/auth/me/", None),
        ("post", LOGOUT_ALL, None),
        ("post", PASSWORD_URL, {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}),
    ],
    ids=["me", "logout_all", "password"],
)
def test_person_only_endpoints_refuse_api_keys_with_403(api_key, user, method, path, body):
    response = getattr(bearer(api_key), method)(path, body, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "user_token_required"
    user.refresh_from_db()
    assert user.check_password(PASSWORD) and user.tokens_valid_after == 0
