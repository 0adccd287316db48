"""The suite's gunicorn runner as the bench uses it: output to a file, not into memory."""

import pytest
import requests

from tests.live_server import GunicornServer

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_server_with_a_log_file_writes_its_output_there_and_reads_it_back(tmp_path):
    log_file = tmp_path / "server.log"
    with GunicornServer(env={"LOG_LEVEL": "INFO"}, log_file=log_file) as server:
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
        lines = server.stop()
    assert server.lines == []  # nothing kept in memory
    assert any('"/healthz"' in line for line in lines)
    assert server.text == log_file.read_text()
