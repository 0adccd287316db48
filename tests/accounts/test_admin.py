import pytest

from accounts.models import User
from tests.factories import make_user, make_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client, workspace):
    operator = User.objects.create_superuser(
        "root@example.com", "a very long operator passphrase", workspace=workspace
    )
    client.force_login(operator)
    return client


def test_operator_creates_a_user_with_a_normalised_email(operator_client, workspace):
    response = operator_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "New.Person@Example.com",
            "workspace": workspace.pk,
            "first_name": "New",
            "last_name": "Person",
            "password1": "another long pass phrase",
            "password2": "another long pass phrase",
            "usable_password": "true",
        },
        secure=True,
    )
    assert response.status_code == 302
    assert User.objects.get(email="new.person@example.com").check_password(
        "another long pass phrase"
    )


def test_workspace_added_in_admin_gets_its_system_user(operator_client):
    response = operator_client.post("/admin/accounts/workspace/add/", {"name": "Beta"}, secure=True)
    assert response.status_code == 302
    system_user = User.objects.get(workspace__name="Beta", is_system=True)
    assert not system_user.has_usable_password()


def test_deactivating_a_user_in_admin_kills_their_access_token(operator_client, api_client):
    person = make_user(make_workspace("Gamma"), email="gamma@example.com")
    login = api_client.post(
        "/api/auth/login/",
        {"email": person.email, "password": "correct horse battery staple"},
        format="json",
    ).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login['access']}")
    assert api_client.get("/api/auth/me/").status_code == 200

    form = {
        "email": person.email,
        "workspace": person.workspace_id,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "is_active": "",
    }
    response = operator_client.post(f"/admin/accounts/user/{person.pk}/change/", form, secure=True)
    assert response.status_code == 302, response.content[:2000]

    assert api_client.get("/api/auth/me/").status_code == 401
    refreshed = api_client.post(
        "/api/auth/token/refresh/", {"refresh": login["refresh"]}, format="json"
    )
    assert refreshed.status_code == 401

    # Reactivation does not resurrect the sessions that deactivation ended.
    User.objects.filter(pk=person.pk).update(is_active=True)
    assert api_client.get("/api/auth/me/").status_code == 401
    again = api_client.post(
        "/api/auth/token/refresh/", {"refresh": login["refresh"]}, format="json"
    )
    assert again.status_code == 401
