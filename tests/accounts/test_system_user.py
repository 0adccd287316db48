"""Every workspace has its active system user, whatever creates it; its keys act as that user."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import SystemUserProtected, User
from accounts.services import users
from activity.actor import Actor
from tests.clients import key_client_for
from tests.factories import key_for

pytestmark = pytest.mark.django_db

CONTACTS = "/api/contacts/"


@pytest.fixture
def system_user(workspace) -> User:
    return User.objects.get(workspace=workspace, is_system=True)


@pytest.fixture
def staff_client(client, workspace):
    operator = User.objects.create_superuser(
        "root@example.com", "a very long operator passphrase", workspace=workspace
    )
    client.force_login(operator)
    return client


def test_createsuperuser_makes_a_workspace_whose_keys_work(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a very long operator passphrase")
    call_command("createsuperuser", email="Root@Example.com", interactive=False, verbosity=0)

    operator = User.objects.get(email="root@example.com")
    assert operator.is_superuser
    assert User.objects.filter(workspace=operator.workspace, is_system=True).exists()
    assert key_client_for(key_for(operator).plain).get(CONTACTS).status_code == 200


def test_create_user_without_a_workspace_makes_one_with_its_system_user(db):
    person = User.objects.create_user("someone@example.com", "a long enough passphrase 42")
    assert User.objects.filter(workspace=person.workspace, is_system=True).exists()


def test_a_key_whose_system_user_is_inactive_fails_closed_in_its_one_lookup(api_key, system_user):
    key_client = key_client_for(api_key.plain)
    assert key_client.get(CONTACTS).status_code == 200
    User.objects.filter(pk=system_user.pk).update(is_active=False)  # behind every guard's back

    with CaptureQueriesContext(connection) as captured:
        response = key_client.get(CONTACTS)

    assert response.status_code == 401 and response.json()["code"] == "key_invalid"
    lookups = [q["sql"] for q in captured.captured_queries if "FROM apikeys_apikey k" in q["sql"]]
    assert len(lookups) == 1


def test_the_system_user_cannot_be_deactivated_or_deleted(system_user):
    with pytest.raises(SystemUserProtected):
        users.user_deactivate(
            user=system_user, actor=Actor.system(workspace_id=system_user.workspace_id)
        )
    with pytest.raises(SystemUserProtected):
        system_user.delete()
    system_user.refresh_from_db()
    assert system_user.is_active


def test_the_admin_shows_the_system_user_read_only(staff_client, system_user):
    change = f"/admin/accounts/user/{system_user.pk}/change/"
    assert staff_client.get(change, secure=True).status_code == 200  # a view
    form = {
        "email": system_user.email,
        "workspace": system_user.workspace_id,
        "first_name": "x",
        "last_name": "y",
        "is_active": "",
    }
    assert staff_client.post(change, form, secure=True).status_code == 403
    password = f"/admin/accounts/user/{system_user.pk}/password/"
    assert staff_client.get(password, secure=True).status_code == 403
    system_user.refresh_from_db()
    assert system_user.is_active and system_user.first_name == "System"


def test_the_admin_refuses_to_delete_a_system_user(staff_client, system_user):
    delete = f"/admin/accounts/user/{system_user.pk}/delete/"
    assert staff_client.post(delete, {"post": "yes"}, secure=True).status_code == 403
    bulk = staff_client.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [system_user.pk], "post": "yes"},
        secure=True,
    )
    assert bulk.status_code == 403
    assert User.objects.filter(pk=system_user.pk).exists()
