import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from activity.actor import Actor
from activity.models import ActivityEvent
from activity.services import activity_record
from apikeys.models import ApiKey, ApiKeyUsage
from tests import live_server


def seed(workspace, *, ages_in_days: list[int]) -> ApiKey:
    key = ApiKey.objects.create(
        workspace=workspace, name="k", secret_hash="0" * 64, last_four="abcd"
    )
    now = timezone.now()
    for age in ages_in_days:
        event = activity_record(actor=Actor(workspace_id=workspace.id, user_id=None), action="x")
        ActivityEvent.objects.filter(pk=event.pk).update(created_at=now - timedelta(days=age))
        ApiKeyUsage.objects.create(
            api_key=key,
            created_at=now - timedelta(days=age),
            method="GET",
            path="/api/contacts/",
            status=200,
        )
    return key


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purgeactivity", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_it_deletes_only_rows_older_than_the_age_in_batches(workspace):
    seed(workspace, ages_in_days=[400] * 7 + [40] * 3 + [5] * 2)
    output = purge("--older-than-days", "30", "--batch-size", "2")
    assert "deleted 10 activity events" in output
    assert "deleted 10 API-key usage rows" in output
    cutoff = timezone.now() - timedelta(days=30)
    assert ActivityEvent.objects.filter(workspace=workspace).count() == 2
    assert not ActivityEvent.objects.filter(created_at__lt=cutoff).exists()
    assert ApiKeyUsage.objects.count() == 2


@pytest.mark.django_db
def test_default_age_comes_from_the_setting(workspace, settings):
    """settings.ACTIVITY_RETENTION_DAYS, read from the environment at start-up."""
    seed(workspace, ages_in_days=[400, 100, 10])
    settings.ACTIVITY_RETENTION_DAYS = "50"
    assert "deleted 2 activity events" in purge()
    settings.ACTIVITY_RETENTION_DAYS = "365"
    assert "deleted 0 activity events" in purge()


@pytest.mark.django_db
def test_default_age_is_a_year(workspace):
    seed(workspace, ages_in_days=[366, 364])
    assert "deleted 1 activity events" in purge()
    assert ActivityEvent.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--older-than-days", "0"], {}),
        (["--older-than-days", "-5"], {}),
        (["--older-than-days", "ten"], {}),
        (["--batch-size", "0"], {}),
        (["--batch-size", "1000001"], {}),
        (["--pause", "soon"], {}),
        (["--bogus"], {}),
        ([], {"ACTIVITY_RETENTION_DAYS": "forever"}),
    ],
    ids=[
        "zero_days",
        "negative_days",
        "words",
        "zero_batch",
        "huge_batch",
        "bad_pause",
        "unknown_option",
        "bad_env",
    ],
)
def test_bad_input_is_one_line_on_stderr_and_a_nonzero_exit(args, env):
    result = subprocess.run(
        [sys.executable, "manage.py", "purgeactivity", *args],
        cwd=live_server.ROOT,
        env={
            **os.environ,
            "DATABASE_URL": live_server.test_database_url(),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
