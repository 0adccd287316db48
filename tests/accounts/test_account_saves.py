"""What saving a user does to their sessions: every way a password changes ends them, nothing
else does (a hash upgrade at login, other fields), and a stale copy never revives them."""

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, identify_hasher
from django.contrib.auth.management.commands import changepassword
from django.core.management import call_command

from accounts.models import User
from tests.accounts.helpers import login, me, refresh
from tests.clients import HttpsAPIClient
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a completely new passphrase 2030"


@pytest.fixture
def staff_client(client, workspace):
    operator = User.objects.create_superuser(
        "root@example.com", "a very long operator passphrase", workspace=workspace
    )
    client.force_login(operator)
    return client


@pytest.fixture
def session(api_client, user) -> dict:
    """A live login of `user`, checked alive."""
    pair = login(api_client, user)
    assert me(pair["access"]).status_code == 200
    return pair


def _assert_dead(pair: dict) -> None:
    assert me(pair["access"]).status_code == 401
    assert refresh(HttpsAPIClient(), pair["refresh"]).status_code == 401


def test_password_reset_in_admin_ends_every_session(staff_client, user, session):
    response = staff_client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
        secure=True,
    )

    assert response.status_code == 302, response.content[:2000]
    _assert_dead(session)
    login(HttpsAPIClient(), user, password=NEW_PASSWORD)


def test_disabling_the_password_in_admin_ends_every_session(staff_client, user, session):
    response = staff_client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"usable_password": "false", "unset-password": "1"},
        secure=True,
    )

    assert response.status_code == 302, response.content[:2000]
    user.refresh_from_db()
    assert not user.has_usable_password()
    _assert_dead(session)


def test_changepassword_command_ends_every_session(user, session, monkeypatch):
    monkeypatch.setattr(changepassword.getpass, "getpass", lambda prompt="": NEW_PASSWORD)

    call_command("changepassword", user.email)

    _assert_dead(session)
    login(HttpsAPIClient(), user, password=NEW_PASSWORD)


def test_set_password_and_save_anywhere_ends_every_session(user, session):
    person = User.objects.get(pk=user.pk)
    person.set_password(NEW_PASSWORD)
    person.save(update_fields=["password"])

    _assert_dead(session)


def test_saving_other_fields_keeps_the_sessions(user, session):
    person = User.objects.get(pk=user.pk)
    person.first_name = "Janet"
    person.save()

    assert me(session["access"]).status_code == 200
    assert refresh(HttpsAPIClient(), session["refresh"]).status_code == 200


def test_saving_a_copy_loaded_before_logout_all_does_not_revive_its_tokens(api_client, user):
    stale_copy = User.objects.get(pk=user.pk)
    pair = login(api_client, user)
    assert (
        HttpsAPIClient()
        .post("/api/auth/logout-all/", HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
        .status_code
        == 204
    )

    stale_copy.first_name = "Janet"
    stale_copy.save()

    assert me(pair["access"]).status_code == 401
    assert User.objects.get(pk=user.pk).first_name == "Janet"


def test_hash_upgrade_at_login_keeps_the_sessions(api_client, workspace):
    person = make_user(workspace)
    hasher = PBKDF2PasswordHasher()
    outdated = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    User.objects.filter(pk=person.pk).update(password=outdated)
    first = login(api_client, person)  # verifies the outdated hash and upgrades it

    person.refresh_from_db()
    assert identify_hasher(person.password).algorithm == "argon2"
    assert me(first["access"]).status_code == 200
    assert refresh(api_client, first["refresh"]).status_code == 200
    login(api_client, person)
