import io
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from apikeys import crypto
from apikeys.models import ApiKey
from tests.live_server import ROOT

pytestmark = pytest.mark.django_db


def test_it_prints_the_new_key_as_the_last_line(workspace):
    out = io.StringIO()
    call_command("createapikey", "--workspace", workspace.id, "--name", "Dashboard", stdout=out)
    plain = out.getvalue().strip().splitlines()[-1]
    parsed = crypto.parse(plain)
    key = ApiKey.objects.get(pk=parsed.key_id)
    assert key.workspace_id == workspace.id and key.name == "Dashboard"
    assert crypto.secret_matches(parsed.secret, key.secret_hash)


@pytest.mark.parametrize(
    "workspace_id,name",
    [("ws_01HXZZZZZZZZZZZZZZZZZZZZZZ", "x"), ("nope", "x"), ("{ws}", ""), ("{ws}", "y" * 101)],
    ids=["unknown_workspace", "malformed_workspace", "blank_name", "long_name"],
)
def test_it_refuses_bad_input(workspace, workspace_id, name):
    with pytest.raises(CommandError):
        call_command(
            "createapikey", "--workspace", workspace_id.format(ws=workspace.id), "--name", name
        )
    assert ApiKey.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_bad_workspace_is_one_line_on_stderr_and_a_nonzero_exit():
    result = subprocess.run(
        [sys.executable, "manage.py", "createapikey", "--workspace", "ws_nope\nx", "--name", "a"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "pk_live_" not in result.stdout
