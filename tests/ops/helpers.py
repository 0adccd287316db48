"""Helpers for the operations tests: a self-signed certificate and gunicorn's captured output."""

import ipaddress
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.live_server import GunicornServer

# The test's own self-signed certificate is not verified (requests(verify=False)); say so once.
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


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
