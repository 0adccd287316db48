"""Token lifetimes, rotation, reuse detection and the retry grace of token/refresh."""

import datetime as dt

import jwt
import pytest
import time_machine

from accounts.models import RefreshTokenRecord
from activity.models import ActivityEvent
from tests.accounts.helpers import claims, login, me, refresh

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2030, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def at(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def test_tokens_are_hs256_with_the_contract_claims(api_client, user, settings):
    with at(T0):
        body = login(api_client, user)
    for kind in ("access", "refresh"):
        header = jwt.get_unverified_header(body[kind])
        assert header["alg"] == "HS256"
        payload = claims(body[kind])
        contract = {"user_id", "exp", "iat", "jti", "token_type", "iss"}
        # Access tokens also name their login session (ended sessions kill them at once).
        assert set(payload) == (contract | {"sid"} if kind == "access" else contract)
        assert payload["user_id"] == user.id
        assert payload["token_type"] == kind
        assert payload["iss"] == settings.JWT_ISSUER
        assert payload["iat"] == int(T0.timestamp())
    assert claims(body["access"])["exp"] == int(T0.timestamp()) + 3600
    assert claims(body["refresh"])["exp"] == int(T0.timestamp()) + 30 * 86400
    assert claims(body["access"])["jti"] != claims(body["refresh"])["jti"]


def test_access_token_dies_after_exactly_one_hour(api_client, user):
    with at(T0):
        access = login(api_client, user)["access"]
    with at(T0 + dt.timedelta(seconds=3599, milliseconds=999)):
        assert me(access).status_code == 200
    with at(T0 + dt.timedelta(seconds=3600)):
        response = me(access)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_refresh_token_dies_thirty_days_after_login(api_client, user):
    with at(T0):
        token = login(api_client, user)["refresh"]
    with at(T0 + 30 * DAY):
        response = refresh(api_client, token)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    with at(T0 + 30 * DAY - dt.timedelta(seconds=1)):
        assert refresh(api_client, token).status_code == 200


def test_rotation_keeps_the_expiry_of_the_login(api_client, user):
    with at(T0):
        token = login(api_client, user)["refresh"]
    with at(T0 + 29 * DAY):
        rotated = refresh(api_client, token).json()
    assert claims(rotated["refresh"])["exp"] == int((T0 + 30 * DAY).timestamp())
    with at(T0 + 30 * DAY - dt.timedelta(seconds=1)):
        again = refresh(api_client, rotated["refresh"])
        assert again.status_code == 200
    with at(T0 + 30 * DAY):
        assert refresh(api_client, again.json()["refresh"]).status_code == 401


def test_rotation_returns_a_working_pair_and_kills_the_presented_token(api_client, user):
    first = login(api_client, user)
    response = refresh(api_client, first["refresh"])
    assert response.status_code == 200
    pair = response.json()
    assert set(pair) == {"access", "refresh"}
    assert me(pair["access"]).status_code == 200
    assert refresh(api_client, pair["refresh"]).status_code == 200
    # The presented token is dead (and presenting it again is reuse).
    assert refresh(api_client, first["refresh"]).status_code == 401


def test_refresh_with_rotated_token_revokes_family(api_client, user):
    first = login(api_client, user)["refresh"]
    second = refresh(api_client, first).json()["refresh"]
    newest = refresh(api_client, second).json()["refresh"]
    other_session = login(api_client, user)["refresh"]

    response = refresh(api_client, first)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert refresh(api_client, newest).status_code == 401
    family = RefreshTokenRecord.objects.filter(family_id=claims(first)["jti"])
    assert family.count() == 3
    assert not family.filter(revoked_at__isnull=True).exists()
    event = ActivityEvent.objects.get(action="auth.refresh_reuse_detected")
    assert event.workspace_id == user.workspace_id
    assert event.actor_id == user.id
    # Another login of the same user is another family and keeps working.
    assert refresh(api_client, other_session).status_code == 200


def test_grace_retry_returns_the_identical_pair_and_one_descendant(api_client, user, settings):
    settings.JWT_REFRESH_REUSE_GRACE = 10
    with at(T0):
        token = login(api_client, user)["refresh"]
    with at(T0 + dt.timedelta(seconds=1)):
        first = refresh(api_client, token)
    with at(T0 + dt.timedelta(seconds=10)):
        retry = refresh(api_client, token)
    assert first.status_code == retry.status_code == 200
    assert retry.content == first.content
    family = RefreshTokenRecord.objects.filter(family_id=claims(token)["jti"])
    assert family.count() == 2
    assert not ActivityEvent.objects.filter(action="auth.refresh_reuse_detected").exists()
    with at(T0 + dt.timedelta(seconds=12)):
        assert refresh(api_client, first.json()["refresh"]).status_code == 200


def test_retry_after_the_grace_is_reuse(api_client, user, settings):
    settings.JWT_REFRESH_REUSE_GRACE = 10
    with at(T0):
        token = login(api_client, user)["refresh"]
        child = refresh(api_client, token).json()["refresh"]
    with at(T0 + dt.timedelta(seconds=11)):
        assert refresh(api_client, token).status_code == 401
        assert refresh(api_client, child).status_code == 401
    assert ActivityEvent.objects.filter(action="auth.refresh_reuse_detected").count() >= 1


def test_retry_within_grace_after_the_child_was_rotated_is_reuse(api_client, user, settings):
    settings.JWT_REFRESH_REUSE_GRACE = 60
    token = login(api_client, user)["refresh"]
    child = refresh(api_client, token).json()["refresh"]
    grandchild = refresh(api_client, child).json()["refresh"]
    assert refresh(api_client, token).status_code == 401
    assert refresh(api_client, grandchild).status_code == 401


def test_grace_zero_makes_an_immediate_retry_reuse(api_client, user, settings):
    settings.JWT_REFRESH_REUSE_GRACE = 0
    token = login(api_client, user)["refresh"]
    child = refresh(api_client, token).json()["refresh"]
    assert refresh(api_client, token).status_code == 401
    assert refresh(api_client, child).status_code == 401


def test_access_token_is_not_a_refresh_token(api_client, user):
    access = login(api_client, user)["access"]
    response = refresh(api_client, access)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.parametrize(
    "body",
    [{}, {"refresh": ""}, {"refresh": "garbage"}, {"refresh": 5}, {"refresh": "x" * 5000}],
    ids=["missing", "empty", "garbage", "number", "huge"],
)
def test_malformed_refresh_requests_are_4xx(api_client, body):
    response = api_client.post("/api/auth/token/refresh/", body, format="json")
    assert response.status_code in (400, 401)
    assert {"detail", "code"} <= set(response.json())


def test_refresh_of_a_deleted_user_is_401(api_client, user):
    token = login(api_client, user)["refresh"]
    user.delete()
    response = refresh(api_client, token)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_refresh_of_a_deactivated_user_is_401(api_client, user):
    token = login(api_client, user)["refresh"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert refresh(api_client, token).status_code == 401
