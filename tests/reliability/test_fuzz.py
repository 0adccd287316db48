"""Schema-driven fuzzing of a live gunicorn (schemathesis): every operation, valid and invalid
input, as a person (JWT) and as an API key. Zero 5xx, zero responses the schema does not
describe, zero invalid input accepted, zero tracebacks or debug pages in any body.

CI-bounded: RELIABILITY_FUZZ_EXAMPLES examples per operation, mode and profile (default 25);
`make fuzz-long` runs the same with many more.
"""

import os

import pytest

from tests.factories import PASSWORD, make_user, make_workspace
from tests.reliability.fuzzing import Fuzzer, prepare_profiles
from tests.reliability.harness import OPEN_THROTTLES, SUMMARY, live_server

EXAMPLES = int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "25"))


@pytest.mark.django_db(transaction=True)
def test_fuzzing_every_operation_finds_no_error_leak_or_schema_violation():
    workspace = make_workspace("Fuzz")
    make_user(workspace, email="owner@fuzz.example")
    make_user(workspace, email="victim@fuzz.example")
    with live_server(env=OPEN_THROTTLES) as server:
        profiles, real_ids = prepare_profiles(
            server.url,
            owner_email="owner@fuzz.example",
            victim_email="victim@fuzz.example",
            password=PASSWORD,
        )
        report = Fuzzer(
            server.url,
            profiles=profiles,
            real_ids=real_ids,
            max_examples=EXAMPLES,
            derandomize=True,
        ).run()
    SUMMARY.append(report.summary())
    print(report.details())
    assert report.requests > 0 and len(report.operations) >= 15
    assert report.server_errors == 0, report.details()
    assert report.leaks == 0, report.details()
    assert not report.blocking, report.details()
    assert not server.error_lines, "\n".join(server.error_lines[:5])
