"""Operator commands: `createuser` (via a real `manage.py` process) and `purgetokens`."""

import json
import os
import subprocess
import sys
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from ulid import ULID

from accounts.models import RefreshTokenRecord, User, Workspace
from tests import live_server

GOOD = "a long enough passphrase 42"


def manage(*args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": live_server.test_database_url(),
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "test-secret"),
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=live_server.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def createuser(email: str, workspace: str, password: str = GOOD) -> subprocess.CompletedProcess:
    return manage(
        "createuser",
        "--email",
        email,
        "--password",
        password,
        "--first-name",
        "Ada",
        "--last-name",
        "Lovelace",
        "--workspace",
        workspace,
    )


def assert_one_line_failure(result: subprocess.CompletedProcess) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db(transaction=True)
def test_createuser_with_a_new_workspace_name(api_client):
    result = createuser("Ada@Example.com", "Analytical Engines")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(printed) == {"id", "workspaceId"}
    user = User.objects.get(pk=printed["id"])
    assert user.email == "ada@example.com" and user.workspace_id == printed["workspaceId"]
    assert Workspace.objects.get(pk=printed["workspaceId"]).name == "Analytical Engines"
    assert User.objects.filter(workspace_id=printed["workspaceId"], is_system=True).exists()
    response = api_client.post(
        "/api/auth/login/", {"email": "ada@example.com", "password": GOOD}, format="json"
    )
    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_createuser_in_an_existing_workspace(workspace):
    result = createuser("babbage@example.com", workspace.pk)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    assert printed["workspaceId"] == workspace.pk
    assert User.objects.get(pk=printed["id"]).workspace_id == workspace.pk
    assert Workspace.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "case", ["duplicate_email", "unknown_workspace_id", "malformed_workspace_id", "weak_password"]
)
def test_createuser_bad_input_is_one_line_and_non_zero(user, case):
    email, workspace, password = "new@example.com", user.workspace_id, GOOD
    if case == "duplicate_email":
        email = "JANE@example.com"
    elif case == "unknown_workspace_id":
        workspace = "ws_" + str(ULID())
    elif case == "malformed_workspace_id":
        workspace = "ws_not-a-ulid"
    else:
        password = "password"
    users_before = User.objects.count()
    workspaces_before = Workspace.objects.count()
    assert_one_line_failure(createuser(email, workspace, password))
    assert User.objects.count() == users_before
    assert Workspace.objects.count() == workspaces_before


@pytest.mark.django_db(transaction=True)
def test_createuser_weak_password_with_new_workspace_leaves_no_workspace(db):
    assert_one_line_failure(createuser("new@example.com", "Fresh Workspace", "123"))
    assert not Workspace.objects.exists()


def _record(user, *, expires_at: int) -> RefreshTokenRecord:
    jti = str(ULID())
    return RefreshTokenRecord.objects.create(
        jti=jti,
        family_id=jti,
        user=user,
        access_jti=str(ULID()),
        issued_at=expires_at - 100,
        expires_at=expires_at,
    )


@pytest.mark.django_db
def test_purgetokens_deletes_only_expired_records_in_batches(user):
    now = int(time.time())
    expired = [_record(user, expires_at=now - 10 - i) for i in range(5)]
    alive = [_record(user, expires_at=now + 3600) for _ in range(3)]
    out = StringIO()

    with CaptureQueriesContext(connection) as queries:
        call_command("purgetokens", "--batch-size", "2", stdout=out)

    remaining = set(RefreshTokenRecord.objects.values_list("jti", flat=True))
    assert remaining == {r.jti for r in alive}
    assert not remaining & {r.jti for r in expired}
    assert "deleted 5 " in out.getvalue()
    deletes = [
        q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("DELETE")
    ]
    assert len(deletes) == 3  # 2 + 2 + 1


@pytest.mark.django_db
def test_purgetokens_with_nothing_expired_deletes_nothing(api_client, user):
    from tests.accounts.helpers import login, refresh

    token = login(api_client, user)["refresh"]
    out = StringIO()
    call_command("purgetokens", stdout=out)
    assert "deleted 0 " in out.getvalue()
    assert refresh(api_client, token).status_code == 200
