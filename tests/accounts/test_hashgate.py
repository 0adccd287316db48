"""The host-wide password-hash gate: slots held by another process (a worker) or another thread
refuse logins with 429 and password changes with 503; a released or crashed holder frees them."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from accounts import hashgate
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login/"

# Another process on the host (as a second gunicorn worker would be) holding slot files.
HOLDER = """
import fcntl, os, sys
fds = [os.open(path, os.O_RDWR | os.O_CREAT, 0o600) for path in sys.argv[1:]]
for fd in fds:
    fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def slot_dir(tmp_path, settings):
    directory = tmp_path / "slots"
    directory.mkdir(mode=0o700)
    settings.LOGIN_HASH_SLOT_DIR = str(directory)
    settings.LOGIN_HASH_CONCURRENCY = 1
    settings.LOGIN_HASH_CPU_SHARE = 1.0  # these tests count slots; the share has its own test
    return str(directory)


def hold_in_other_process(directory: str, *indexes: int) -> subprocess.Popen:
    paths = [hashgate.slot_paths(directory, max(indexes) + 1)[i] for i in indexes]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, *paths],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline() == "held\n"
    return holder


def login(api_client, user):
    return api_client.post(LOGIN, {"email": user.email, "password": PASSWORD}, format="json")


def assert_login_refused(response):
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) >= 1


def test_slot_held_by_another_process_refuses_login_until_released(api_client, user, slot_dir):
    holder = hold_in_other_process(slot_dir, 0)
    try:
        assert_login_refused(login(api_client, user))
    finally:
        holder.communicate("")  # the holder reads EOF and exits: the kernel frees its lock
    assert holder.returncode == 0
    assert login(api_client, user).status_code == 200


def test_a_killed_holder_frees_its_slot(api_client, user, slot_dir):
    """A worker killed mid-hash (kill -9, OOM, timeout) cannot leak a slot."""
    holder = hold_in_other_process(slot_dir, 0)
    assert_login_refused(login(api_client, user))
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert login(api_client, user).status_code == 200


def test_slot_held_by_another_thread_refuses_login(api_client, user, slot_dir):
    """Threads of one process (a gthread worker) compete for the same host-wide slots."""
    held, done = threading.Event(), threading.Event()

    def hash_elsewhere() -> None:
        with hashgate.acquire():
            held.set()
            done.wait(timeout=30)

    thread = threading.Thread(target=hash_elsewhere)
    thread.start()
    try:
        assert held.wait(timeout=30)
        assert_login_refused(login(api_client, user))
    finally:
        done.set()
        thread.join()
    assert login(api_client, user).status_code == 200


def test_password_change_while_busy_is_503(jwt_client, slot_dir):
    holder = hold_in_other_process(slot_dir, 0)
    try:
        response = jwt_client.post(
            "/api/auth/password/",
            {"currentPassword": PASSWORD, "newPassword": "a brand new passphrase 42"},
            format="json",
        )
    finally:
        holder.communicate("")
    assert response.status_code == 503, response.content
    assert response["Retry-After"]


def test_concurrency_is_the_number_of_slots(api_client, user, slot_dir, settings):
    settings.LOGIN_HASH_CONCURRENCY = 2
    one = hold_in_other_process(slot_dir, 0)
    try:
        assert login(api_client, user).status_code == 200
        both = hold_in_other_process(slot_dir, 1)
        try:
            assert_login_refused(login(api_client, user))
        finally:
            both.communicate("")
    finally:
        one.communicate("")


def test_a_forked_child_does_not_share_the_parents_slot(slot_dir):
    """flock belongs to the open file: a child using the parent's descriptor would pass the
    gate while the parent hashes. The child opens its own and is refused."""
    with hashgate.acquire():
        pass  # the parent now has its slot descriptor open
    go_read, go_write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 2
        try:
            os.close(go_write)
            os.read(go_read, 1)  # wait until the parent holds the slot
            code = 0 if hashgate.acquire(wait=0) is None else 1
        finally:
            os._exit(code)
    os.close(go_read)
    slot = hashgate.acquire()
    try:
        os.write(go_write, b"x")
        _, status = os.waitpid(child, 0)
    finally:
        slot.release()
        os.close(go_write)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_slot_directory_others_can_write_is_refused(tmp_path, settings):
    """Anyone able to lock a slot file could refuse every login."""
    directory = tmp_path / "shared"
    directory.mkdir()
    directory.chmod(0o777)
    settings.LOGIN_HASH_SLOT_DIR = str(directory)
    with pytest.raises(ImproperlyConfigured):
        hashgate.acquire()


def test_the_default_directory_is_created_private(settings, tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    settings.LOGIN_HASH_SLOT_DIR = ""
    with hashgate.acquire() as slot:
        assert slot is not None
    directory = hashgate.slot_dir()
    assert os.path.dirname(directory) == str(tmp_path)
    assert os.stat(directory).st_mode & 0o777 == 0o700


def test_a_slot_rests_after_a_hash_in_proportion_to_its_cpu_share(
    api_client, user, slot_dir, settings, time_machine
):
    settings.LOGIN_HASH_CPU_SHARE = 0.01  # rest 99x as long as the hash took: seconds
    assert login(api_client, user).status_code == 200
    assert_login_refused(login(api_client, user))
    time_machine.move_to(time.time() + 60, tick=True)
    assert login(api_client, user).status_code == 200


def test_with_the_whole_share_a_slot_never_rests(api_client, user, slot_dir, settings):
    settings.LOGIN_HASH_CPU_SHARE = 1.0
    assert [login(api_client, user).status_code for _ in range(3)] == [200, 200, 200]
