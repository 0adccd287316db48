"""A password change or deactivation landing while a login (or another change) hashes wins.

Real threads against PostgreSQL: a hasher held for these tests only pauses the first password
check after it has verified, the main thread changes the account, then the check resumes.
"""

import threading

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, identify_hasher
from django.db import connection

from accounts.hashers import ParsaLinkArgon2Hasher
from accounts.models import User
from accounts.services import users
from activity.actor import Actor
from tests.accounts.helpers import LOGIN, PASSWORD_URL, login, me, refresh
from tests.clients import HttpsAPIClient
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a completely new passphrase 2030"
OTHER_PASSWORD = "somebody else's passphrase 2031"


class _Pause:
    """Holds the first verify after `arm()` until `resume` is set."""

    def __init__(self) -> None:
        self.armed = False
        self.verified = threading.Event()
        self.resume = threading.Event()
        self._lock = threading.Lock()

    def after_verify(self) -> None:
        with self._lock:
            held, self.armed = self.armed, False
        if held:
            self.verified.set()
            assert self.resume.wait(30)


PAUSE = _Pause()


class PausingArgon2Hasher(ParsaLinkArgon2Hasher):
    def verify(self, password, encoded):
        verified = super().verify(password, encoded)
        PAUSE.after_verify()
        return verified


class PausingPBKDF2Hasher(PBKDF2PasswordHasher):
    """An outdated hasher: a login through it upgrades the stored hash to Argon2."""

    def verify(self, password, encoded):
        verified = super().verify(password, encoded)
        PAUSE.after_verify()
        return verified


@pytest.fixture
def pause(settings):
    global PAUSE
    PAUSE = _Pause()
    settings.PASSWORD_HASHERS = [
        f"{__name__}.PausingArgon2Hasher",
        f"{__name__}.PausingPBKDF2Hasher",
    ]
    yield PAUSE
    PAUSE.resume.set()


def _outdate_hash(user: User) -> None:
    hasher = PBKDF2PasswordHasher()
    User.objects.filter(pk=user.pk).update(
        password=hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    )


def _in_thread(call) -> dict:
    """Run `call` on its own thread and connection; returns a dict that gets its result."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["response"] = call()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    outcome["thread"] = threading.Thread(target=run)
    outcome["thread"].start()
    return outcome


def _finish(outcome: dict, pause: _Pause):
    pause.resume.set()
    outcome["thread"].join(30)
    assert "error" not in outcome, outcome.get("error")
    return outcome["response"]


def _reset_password(user: User) -> None:
    person = User.objects.get(pk=user.pk)
    person.set_password(NEW_PASSWORD)
    person.save()


def _deactivate(user: User) -> None:
    users.user_deactivate(
        user=User.objects.get(pk=user.pk), actor=Actor.system(workspace_id=user.workspace_id)
    )


@pytest.mark.parametrize(
    ("stored_hash", "change"),
    [("current", _reset_password), ("outdated", _reset_password), ("current", _deactivate)],
    ids=["password-reset", "password-reset-during-hash-upgrade", "deactivation"],
)
def test_a_login_that_verified_before_an_account_change_gets_no_session(
    user, pause, stored_hash, change
):
    if stored_hash == "outdated":
        _outdate_hash(user)
    pause.armed = True
    attempt = _in_thread(
        lambda: HttpsAPIClient().post(
            LOGIN, {"email": user.email, "password": PASSWORD}, format="json"
        )
    )
    assert pause.verified.wait(30)

    change(user)
    response = _finish(attempt, pause)

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "invalid_credentials"
    person = User.objects.get(pk=user.pk)
    if change is _reset_password:  # the login's hash upgrade wrote nothing back
        assert person.check_password(NEW_PASSWORD) and not person.check_password(PASSWORD)
    assert not person.refresh_tokens.filter(revoked_at__isnull=True).exists()


def test_a_password_change_that_verified_before_another_change_is_refused(api_client, user, pause):
    pair = login(api_client, user)
    pause.armed = True
    attempt = _in_thread(
        lambda: HttpsAPIClient().post(
            PASSWORD_URL,
            {"currentPassword": PASSWORD, "newPassword": OTHER_PASSWORD},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {pair['access']}",
        )
    )
    assert pause.verified.wait(30)

    _reset_password(user)
    response = _finish(attempt, pause)

    assert response.status_code == 400, response.content
    assert "currentPassword" in response.json()["fields"]
    person = User.objects.get(pk=user.pk)
    assert person.check_password(NEW_PASSWORD) and not person.check_password(OTHER_PASSWORD)
    assert me(pair["access"]).status_code == 401
    assert refresh(api_client, pair["refresh"]).status_code == 401


def test_two_logins_upgrading_the_same_outdated_hash_both_succeed(user, pause):
    _outdate_hash(user)
    pause.armed = True
    attempt = _in_thread(
        lambda: HttpsAPIClient().post(
            LOGIN, {"email": user.email, "password": PASSWORD}, format="json"
        )
    )
    assert pause.verified.wait(30)

    assert User.objects.get(pk=user.pk).check_password(PASSWORD)  # upgrades the hash first
    response = _finish(attempt, pause)

    assert response.status_code == 200, response.content
    assert me(response.json()["access"]).status_code == 200
    assert identify_hasher(User.objects.get(pk=user.pk).password).algorithm == "argon2"
