"""docker/entrypoint.sh on this machine: waits for the DB, migrates exactly once when two
replicas start at once, then execs the command (gunicorn by default)."""

import json
import os
import subprocess
import time
import uuid
from collections import Counter

import psycopg
import pytest
import requests
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from tests.live_server import ROOT, free_port

ENTRYPOINT = str(ROOT / "docker" / "entrypoint.sh")
pytestmark = pytest.mark.django_db


def _server_url(dbname: str) -> str:
    s = connection.settings_dict
    user, host, port = s["USER"] or "postgres", s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{dbname}"


@pytest.fixture
def empty_database(db):
    """A fresh, empty database of its own (dropped afterwards)."""
    name = f"test_parsalink_entry_{uuid.uuid4().hex[:12]}"
    admin_url = _server_url("postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _server_url(name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(database_url: str, **extra) -> dict[str, str]:
    venv_bin = str(ROOT / ".venv" / "bin")
    return {
        **os.environ,
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}",
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "entrypoint-test-secret-not-for-production",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def _messages(output: str) -> list[str]:
    """The start-up steps print JSON log lines; the exec'd command prints what it prints."""
    messages = []
    for line in output.splitlines():
        try:
            messages.append(json.loads(line)["message"])
        except (ValueError, KeyError, TypeError):
            messages.append(line)
    return messages


def test_two_replicas_starting_at_once_migrate_exactly_once(empty_database):
    env = _env(empty_database)
    replicas = [
        subprocess.Popen(
            [ENTRYPOINT, "python", "-c", "print('exec ok')"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [replica.communicate(timeout=300)[0] for replica in replicas]
    assert [replica.returncode for replica in replicas] == [0, 0], outputs

    shipped = {f"{app}.{name}" for app, name in MigrationLoader(None).graph.nodes}
    applied_lines = Counter(
        line.split()[1].rstrip(".")
        for output in outputs
        for line in _messages(output)
        if line.strip().startswith("Applying ")
    )
    # Every migration applied once, by one replica or the other, never twice.
    assert set(applied_lines) == shipped
    assert set(applied_lines.values()) == {1}
    for output in outputs:
        assert output.rstrip().endswith("exec ok")  # then exec'd the given command

    with psycopg.connect(empty_database) as conn:
        rows = conn.execute("SELECT app, name FROM django_migrations").fetchall()
    recorded = Counter(f"{app}.{name}" for app, name in rows)
    assert shipped <= set(recorded) and set(recorded.values()) == {1}


def test_start_up_steps_log_json_lines(empty_database):
    result = subprocess.run(
        [ENTRYPOINT, "true"],
        env=_env(empty_database, LOG_LEVEL="INFO"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]
    assert {entry["logger"] for entry in entries} == {"entrypoint.migrate"}
    assert any(entry["message"].strip().startswith("Applying ") for entry in entries)


def test_entrypoint_execs_gunicorn_which_serves_and_is_ready(empty_database):
    port = free_port()
    # The image's user has no home directory: gunicorn must not need one.
    env = _env(empty_database, PORT=str(port), BIND_HOST="127.0.0.1", GUNICORN_WORKERS="1")
    env["HOME"] = "/proc/parsalink-no-home"
    env.pop("XDG_RUNTIME_DIR", None)
    process = subprocess.Popen(
        [ENTRYPOINT],
        env={**env, "LOG_LEVEL": "INFO"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready = None
        for _ in range(600):
            try:
                ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
                break
            except requests.ConnectionError:
                if process.poll() is not None:
                    break
                time.sleep(0.1)
        assert ready is not None, f"entrypoint exited with {process.returncode}"
        assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert "Control server error" not in output


def test_it_stops_with_one_line_when_the_database_never_answers(db):
    dead = f"postgres://postgres@127.0.0.1:{free_port()}/nothing"
    result = subprocess.run(
        [ENTRYPOINT, "true"],
        env=_env(dead, DB_WAIT_TIMEOUT="1"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = _messages((result.stdout + result.stderr).strip())
    assert len(lines) == 1 and lines[0].startswith("database not reachable after 1 s"), lines
