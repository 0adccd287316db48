"""Login capacity: every password hash runs on accounts.hashing's low-priority threads; a login
waits up to LOGIN_QUEUE_TIMEOUT for its hash to start and is refused (429 login_busy) only then.

The in-process tests fill the capacity with a real job on the real pool; the live tests run a
gunicorn with the server's default login settings and real client threads."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from accounts import hashing
from accounts.models import User
from tests.factories import PASSWORD, make_user
from tests.live_server import GunicornServer

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login/"
PASSWORD_CHANGE = "/api/auth/password/"
# A trusted stand-in for the TLS proxy: deployment wiring, not a login setting.
PROXIED = {"FORWARDED_ALLOW_IPS": "127.0.0.1"}


def login(api_client, user):
    return api_client.post(LOGIN, {"email": user.email, "password": PASSWORD}, format="json")


def assert_login_busy(response):
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "login_busy"
    assert int(response["Retry-After"]) >= 1


class HashingThreadHeld:
    """Holds the process's one hashing thread with a real job until released."""

    def __init__(self) -> None:
        self.running, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=hashing.run, args=(self._hold,))

    def _hold(self) -> None:
        self.running.set()
        self.release.wait(timeout=30)

    def __enter__(self) -> "HashingThreadHeld":
        self.thread.start()
        assert self.running.wait(timeout=10)
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.thread.join(timeout=30)


@pytest.fixture
def short_queue(settings):
    settings.LOGIN_QUEUE_TIMEOUT = 0.05
    return settings


# --- in process: the pool itself ---------------------------------------------------------------


def test_hashes_run_on_a_thread_at_lower_cpu_priority(settings):
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    caller = niceness()
    assert hashing.run(niceness) == max(caller, settings.LOGIN_HASH_NICE)
    assert niceness() == caller  # the request's own thread keeps its priority


def test_a_hash_that_found_no_thread_in_time_is_cancelled_and_never_runs(short_queue):
    ran = threading.Event()
    with HashingThreadHeld(), pytest.raises(hashing.HashingBusy):
        hashing.run(ran.set)
    hashing.run(lambda: None)  # the queue has drained past where the cancelled job was
    assert not ran.is_set()


def test_a_hash_that_started_is_waited_for_to_the_end(short_queue):
    started = threading.Event()

    def slow_hash() -> str:
        started.set()
        threading.Event().wait(0.3)  # six times the queue timeout
        return "done"

    assert hashing.run(slow_hash) == "done"
    assert started.is_set()


def test_a_queued_hash_waits_for_a_thread_within_the_timeout(settings):
    settings.LOGIN_QUEUE_TIMEOUT = 5
    holder = HashingThreadHeld()
    with holder:
        threading.Timer(0.2, holder.release.set).start()
        assert hashing.run(lambda: "mine") == "mine"


# --- in process: every path that hashes -------------------------------------------------------


def test_login_while_no_hashing_thread_frees_up_is_429_login_busy(api_client, user, short_queue):
    with HashingThreadHeld():
        assert_login_busy(login(api_client, user))
    assert login(api_client, user).status_code == 200


def test_password_change_while_no_hashing_thread_frees_up_is_429_login_busy(
    jwt_client, user, short_queue
):
    with HashingThreadHeld():
        response = jwt_client.post(
            PASSWORD_CHANGE,
            {"currentPassword": PASSWORD, "newPassword": "a brand new passphrase 42"},
            format="json",
        )
    assert_login_busy(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # nothing half-written


def test_admin_login_hashes_under_the_same_bound(client, workspace, short_queue):
    User.objects.create_superuser(
        "root@example.com", "a very long operator passphrase", workspace=workspace
    )
    form = {"username": "root@example.com", "password": "a very long operator passphrase"}
    with HashingThreadHeld():
        response = client.post("/admin/login/", form, secure=True)
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "login_busy"
    assert response["Retry-After"] == "1"
    assert client.post("/admin/login/", form, secure=True).status_code == 302


# --- a live gunicorn with the default login settings ------------------------------------------


def post_login(server: GunicornServer, email: str, password: str = PASSWORD) -> requests.Response:
    return requests.post(
        f"{server.url}{LOGIN}",
        json={"email": email, "password": password},
        headers={"X-Forwarded-Proto": "https"},
        timeout=30,
    )


def at_the_same_moment(server: GunicornServer, emails: list[str]) -> list[requests.Response]:
    barrier = threading.Barrier(len(emails))

    def one(email: str) -> requests.Response:
        barrier.wait(timeout=30)
        return post_login(server, email)

    with ThreadPoolExecutor(len(emails)) as pool:
        return list(pool.map(one, emails))


@pytest.mark.django_db(transaction=True)
def test_a_team_of_16_logging_in_at_the_same_moment_all_get_in(workspace):
    team = [make_user(workspace, email=f"member{i}@example.com").email for i in range(16)]
    with GunicornServer(workers=1, env=PROXIED) as server:
        responses = at_the_same_moment(server, team)
    assert [r.status_code for r in responses] == [200] * 16, [r.text for r in responses]


@pytest.mark.django_db(transaction=True)
def test_one_person_logging_in_10_times_back_to_back_gets_in_every_time(user):
    with GunicornServer(workers=1, env=PROXIED) as server:
        statuses = [post_login(server, user.email).status_code for _ in range(10)]
    assert statuses == [200] * 10


@pytest.mark.django_db(transaction=True)
def test_mistyped_passwords_back_to_back_are_401_until_the_throttle(user):
    with GunicornServer(workers=1, env=PROXIED) as server:
        responses = [post_login(server, user.email, f"mistyped {i}") for i in range(11)]
    assert [r.status_code for r in responses[:10]] == [401] * 10
    assert {r.json()["code"] for r in responses[:10]} == {"invalid_credentials"}
    assert responses[10].status_code == 429
    assert responses[10].json()["code"] == "throttled"


@pytest.mark.django_db(transaction=True)
def test_live_logins_beyond_a_tiny_queue_timeout_are_429_login_busy(workspace):
    team = [make_user(workspace, email=f"member{i}@example.com").email for i in range(16)]
    env = {**PROXIED, "LOGIN_QUEUE_TIMEOUT": "0.001"}
    with GunicornServer(workers=1, env=env) as server:
        for _ in range(5):  # 16 at once on one hashing thread: some must queue past 1 ms
            responses = at_the_same_moment(server, team)
            busy = [r for r in responses if r.status_code == 429]
            if busy:
                break
    assert busy
    assert {r.status_code for r in responses} <= {200, 429}
    for response in busy:
        assert response.json()["code"] == "login_busy"
        assert int(response.headers["Retry-After"]) >= 1
