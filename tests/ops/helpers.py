"""Helpers for the operations tests: gunicorn's captured output (and make_certificate)."""

import json

import urllib3

from tests.live_server import GunicornServer

# The test's own self-signed certificate is not verified (requests(verify=False)); say so once.
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


class CapturedOutput:
    """What a GunicornServer printed (it drains its own pipe, so a full pipe never blocks it)."""

    def __init__(self, server: GunicornServer) -> None:
        self.server = server

    @property
    def lines(self) -> list[str]:
        return self.server.lines

    def stop(self) -> list[str]:
        """Stops gunicorn gracefully and returns every line it printed."""
        return self.server.stop()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def records(self) -> list[dict]:
        """Every line as a JSON object (fails the test on a line that is not one)."""
        return [json.loads(line) for line in self.lines if line.strip()]
