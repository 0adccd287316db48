"""Which cache topologies a bench run measures, with and without a Redis that answers."""

import pytest

from bench import servers

REDIS = "redis://127.0.0.1:6379/13"

pytestmark = pytest.mark.django_db  # the suite's autouse cache reset reaches the database


@pytest.fixture
def redis_answers(monkeypatch):
    monkeypatch.setattr(servers, "redis_url", lambda: REDIS)


@pytest.fixture
def no_redis(monkeypatch):
    monkeypatch.setattr(servers, "redis_url", lambda: None)


def test_by_default_both_topologies_run_when_redis_answers(redis_answers):
    assert servers.topologies(None, smoke=False) == ({"redis": REDIS, "database": None}, "")


def test_without_redis_the_database_topology_runs_alone_with_a_note(no_redis):
    chosen, note = servers.topologies(None, smoke=False)
    assert chosen == {"database": None}
    assert "no Redis answers" in note


def test_smoke_measures_the_database_topology_alone(redis_answers):
    assert servers.topologies(None, smoke=True) == ({"database": None}, "")


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("redis", {"redis": REDIS}),
        ("database", {"database": None}),
        ("both", {"redis": REDIS, "database": None}),
    ],
    ids=["redis", "database", "both"],
)
def test_a_chosen_topology_is_measured_alone(redis_answers, choice, expected):
    assert servers.topologies(choice, smoke=True) == (expected, "")


@pytest.mark.parametrize("choice", ["redis", "both"])
def test_it_stops_when_redis_is_asked_for_and_none_answers(no_redis, choice):
    with pytest.raises(SystemExit, match="no Redis answers"):
        servers.topologies(choice, smoke=False)
