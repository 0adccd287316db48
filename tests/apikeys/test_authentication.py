import pytest

from accounts.models import User
from apikeys.models import ApiKey
from tests.clients import key_client_for
from tests.factories import key_for

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apikeys.urls")]

PROBE = "/probe/whoami/"


def test_key_acts_as_the_workspace_system_user_through_that_key(key_client, api_key, workspace):
    response = key_client.get(PROBE)
    assert response.status_code == 200, response.content
    system_user = User.objects.get(workspace=workspace, is_system=True)
    assert response.json() == {
        "id": system_user.id,
        "workspaceId": workspace.id,
        "isSystem": True,
        "apiKeyId": api_key.api_key.id,
        "auth": api_key.api_key.id,
    }


def test_scheme_name_is_case_insensitive(api_key):
    client = key_client_for(api_key.plain)
    client.credentials(HTTP_AUTHORIZATION=f"bEaReR {api_key.plain}")
    assert client.get(PROBE).status_code == 200


def _flip(char: str) -> str:
    return "A" if char != "A" else "B"


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda k: k[:-1], id="truncated"),
        pytest.param(lambda k: k[:-1] + _flip(k[-1]), id="checksum_typo"),
        pytest.param(lambda k: k[:40] + _flip(k[40]) + k[41:], id="secret_typo"),
        pytest.param(lambda k: k + "x", id="too_long"),
        pytest.param(lambda k: "pk_test_" + k[8:], id="other_environment"),
        pytest.param(lambda k: "pk_", id="namespace_only"),
        pytest.param(lambda k: k.lower(), id="lowercased"),
    ],
)
def test_it_rejects_malformed_keys_without_falling_through(api_key, mutate):
    response = key_client_for(mutate(api_key.plain)).get(PROBE)
    assert response.status_code == 401
    assert response.json()["code"] == "key_malformed"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_rejects_a_well_formed_key_that_does_not_exist(api_key):
    from apikeys import crypto

    stranger = crypto.generate().plain
    response = key_client_for(stranger).get(PROBE)
    assert response.status_code == 401
    assert response.json()["code"] == "key_invalid"


def test_it_rejects_the_right_key_id_with_a_wrong_secret(api_key):
    from apikeys import crypto

    other = crypto.generate().plain
    body = api_key.plain[:34] + other[34:66]
    forged = body + crypto.checksum(body)
    response = key_client_for(forged).get(PROBE)
    assert response.status_code == 401
    assert response.json()["code"] == "key_invalid"


def test_revoked_key_is_refused_on_the_very_next_request(jwt_client, key_client, api_key):
    assert key_client.get(PROBE).status_code == 200
    assert jwt_client.post(f"/api/api-keys/{api_key.api_key.id}/revoke/").status_code == 200
    response = key_client.get(PROBE)
    assert response.status_code == 401
    assert response.json()["code"] == "key_revoked"


def test_expired_key_is_refused_with_its_own_code(key_client, api_key):
    from django.utils import timezone

    ApiKey.objects.filter(pk=api_key.api_key.pk).update(expires_at=timezone.now())
    response = key_client.get(PROBE)
    assert response.status_code == 401
    assert response.json()["code"] == "key_expired"


def test_key_with_future_expiry_works(user):
    from datetime import timedelta

    from django.utils import timezone

    created = key_for(user, expires_at=timezone.now() + timedelta(hours=1))
    assert key_client_for(created.plain).get(PROBE).status_code == 200


def test_jwt_requests_still_authenticate_as_the_person(jwt_client, user):
    body = jwt_client.get(PROBE).json()
    assert body["id"] == user.id and body["apiKeyId"] is None and body["isSystem"] is False
