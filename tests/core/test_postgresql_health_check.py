"""parsalink/core/postgresql: the health check asks the kernel first, the server only when the
socket has something to say.

Each test opens connections of its own (fresh wrappers of the "default" database), so the
test's own connection and transaction are untouched; every one is closed at the end.
"""

import select

import pytest
from django.conf import settings
from django.db import connections

from parsalink.core.postgresql.base import DatabaseWrapper

pytestmark = pytest.mark.django_db

READABLE_TIMEOUT_SECONDS = 5


@pytest.fixture
def open_connection():
    """Opens fresh connection wrappers of the default database; closes them all afterwards."""
    opened = []

    def open_one():
        wrapper = connections.create_connection("default")
        wrapper.ensure_connection()
        opened.append(wrapper)
        return wrapper

    yield open_one
    for wrapper in opened:
        wrapper.close()


def count_is_usable(wrapper) -> list[bool]:
    """Wraps the wrapper's `is_usable` (Django's SELECT 1): each call's result is appended."""
    calls: list[bool] = []
    original = wrapper.is_usable

    def counting() -> bool:
        result = original()
        calls.append(result)
        return result

    wrapper.is_usable = counting
    return calls


def backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def start_request(wrapper) -> None:
    """What Django does for a persistent connection when a request starts (request_started)."""
    wrapper.close_if_unusable_or_obsolete()
    assert wrapper.connection is not None and not wrapper.health_check_done


def wait_until_readable(wrapper) -> None:
    readable, _, _ = select.select([wrapper.connection.fileno()], [], [], READABLE_TIMEOUT_SECONDS)
    assert readable, "the server said nothing on the connection"


def test_settings_use_the_polling_backend_on_postgresql():
    assert settings.DATABASES["default"]["ENGINE"] == "parsalink.core.postgresql"
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    assert isinstance(connections["default"], DatabaseWrapper)


def test_a_quiet_open_connection_passes_the_health_check_without_select_1(open_connection):
    wrapper = open_connection()
    assert wrapper.health_check_enabled
    pid = backend_pid(wrapper)
    start_request(wrapper)
    calls = count_is_usable(wrapper)

    wrapper.close_if_health_check_failed()

    assert calls == []
    assert wrapper.health_check_done
    assert backend_pid(wrapper) == pid
    assert calls == []  # the request's own query asks for no further check


def test_the_health_check_runs_once_per_request(open_connection):
    wrapper = open_connection()
    start_request(wrapper)
    wrapper.close_if_health_check_failed()
    calls = count_is_usable(wrapper)
    for _ in range(3):
        backend_pid(wrapper)
    assert calls == []


def test_a_connection_the_server_terminated_is_replaced_before_use(open_connection):
    victim = open_connection()
    old_pid = backend_pid(victim)
    with open_connection().cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [old_pid])
        assert cursor.fetchone()[0] is True
    wait_until_readable(victim)
    start_request(victim)
    calls = count_is_usable(victim)

    victim.close_if_health_check_failed()

    assert calls == [False]  # the socket spoke, so Django's own check ran, and failed
    new_pid = backend_pid(victim)
    assert new_pid != old_pid


def test_a_readable_but_healthy_connection_is_checked_and_kept(open_connection):
    """A notification makes the socket readable without anything being wrong: Django's own
    check runs, passes, and the connection stays."""
    listener = open_connection()
    with listener.cursor() as cursor:
        cursor.execute("LISTEN parsalink_health_check_test")
    pid = backend_pid(listener)
    with open_connection().cursor() as cursor:
        cursor.execute("NOTIFY parsalink_health_check_test")
    wait_until_readable(listener)
    start_request(listener)
    calls = count_is_usable(listener)

    listener.close_if_health_check_failed()

    assert calls == [True]
    assert backend_pid(listener) == pid


def test_a_closed_connection_is_not_taken_for_a_quiet_one(open_connection):
    wrapper = open_connection()
    old_pid = backend_pid(wrapper)
    start_request(wrapper)
    wrapper.connection.close()  # closed under Django's feet: no socket to poll
    calls = count_is_usable(wrapper)

    wrapper.close_if_health_check_failed()

    assert calls == [False]
    assert backend_pid(wrapper) != old_pid
