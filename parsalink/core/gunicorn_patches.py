"""Two changes to gunicorn that it has no setting for, applied by gunicorn.conf.py.

- No `Server:` response header. gunicorn sends `Server: gunicorn` (no version) and has no setting
  for it (benoitc/gunicorn#825); assigning `gunicorn.SERVER` is unreliable because
  gunicorn.http.wsgi copies it at import time. Dropping the line from the default headers covers
  every response.
- Requests gunicorn's own parser refuses (a request line or header over the size limit, a
  malformed header line, too many headers) never reach Django, and gunicorn answers them with an
  HTML page (workers/base.py handle_error). The contract wants every error as
  `{"detail", "code"}` JSON, so gunicorn.util.write_error, which the workers call through the
  module at request time, is replaced. The parser's message is not echoed: it can quote the
  client's own bytes.

tests/ops/test_headers.py fails if a gunicorn upgrade changes either method.
"""

import json

from gunicorn import util
from gunicorn.http import wsgi

from parsalink.core.errors import error_body

ERROR_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    414: "uri_too_long",
    417: "expectation_failed",
    431: "headers_too_large",
    501: "not_implemented",
}

_default_headers = wsgi.Response.default_headers


def _default_headers_without_server(self):
    return [line for line in _default_headers(self) if not line.startswith("Server:")]


def write_json_error(sock, status_int, reason, mesg):
    body = json.dumps(error_body(f"{reason}.", ERROR_CODES.get(status_int, "server_error")))
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body.encode())}\r\n\r\n"
    ).encode("latin-1")
    util.write_nonblock(sock, head + body.encode())


def apply() -> None:
    wsgi.Response.default_headers = _default_headers_without_server
    util.write_error = write_json_error
