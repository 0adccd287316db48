"""A real gunicorn process serving the test database, for tests that need the whole stack.

Use inside a `transactional_db` test (rows must be committed to be seen by the server):

    with GunicornServer() as server:
        requests.get(f"{server.url}/healthz")
"""

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database pytest-django created, so the server sees the test's rows."""
    s = connection.settings_dict
    user, host, port = s["USER"] or "postgres", s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{s['NAME']}"


def make_certificate(directory: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, made in the test; returns (certfile, keyfile)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(certfile), str(keyfile)


class GunicornServer:
    """gunicorn on a free port; `app`, `cwd` and `log_file` let the bench start the stock peers
    with the same runner and keep a long run's request log out of memory."""

    def __init__(
        self,
        *,
        workers: int = 1,
        env: dict[str, str] | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        extra_args: list[str] | None = None,
        database_url: str | None = None,
        app: str = "parsalink.wsgi",
        cwd: Path = ROOT,
        log_file: Path | None = None,
        stop_timeout: float = 15,
    ) -> None:
        self.port = free_port()
        self.app, self.cwd, self.log_file = app, cwd, log_file
        self.stop_timeout = stop_timeout
        self.workers = workers
        self.certfile, self.keyfile = certfile, keyfile
        self.extra_args = extra_args or []
        self.env = {
            **os.environ,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": os.environ.get(
                "DJANGO_SECRET_KEY", "live-server-test-secret-not-for-production"
            ),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url or test_database_url(),
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        scheme = "https" if certfile else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.lines: list[str] = []

    def __enter__(self) -> "GunicornServer":
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            self.app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            *self.extra_args,
        ]
        if self.certfile:
            cmd += ["--certfile", self.certfile, "--keyfile", self.keyfile]
        output = self.log_file.open("w") if self.log_file else subprocess.PIPE
        self.process = subprocess.Popen(
            cmd, cwd=self.cwd, env=self.env, stdout=output, stderr=subprocess.STDOUT
        )
        # Drain the pipe continuously: a full 64 KiB pipe would block every worker mid-request.
        self._drain = threading.Thread(target=self._read_output, daemon=True)
        if self.log_file:
            output.close()  # the child holds its own copy
        else:
            self._drain.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if not self.log_file:
                    self._drain.join(timeout=5)
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.text}")
            try:
                requests.get(f"{self.url}/healthz", timeout=1, verify=False)
                return self
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError("gunicorn did not start within 30 s")

    def _read_output(self) -> None:
        for raw in iter(self.process.stdout.readline, b""):
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    @property
    def text(self) -> str:
        """Everything gunicorn and the app printed so far (stdout and stderr)."""
        if self.log_file:
            return self.log_file.read_text(errors="replace")
        return "\n".join(self.lines)

    def stop(self) -> list[str]:
        """Stop gunicorn gracefully (SIGTERM) and return every line it printed."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log_file:
            return self.text.splitlines()
        if self.process:
            self._drain.join(timeout=10)
            self.process.stdout.close()
        return self.lines

    def __exit__(self, *exc) -> None:
        self.stop()
