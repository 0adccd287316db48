import pytest
from django.test import RequestFactory

from parsalink.core.client import client_ip

pytestmark = pytest.mark.django_db  # the autouse cache reset touches the database cache


def _request(remote: str, forwarded: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


def test_it_ignores_x_forwarded_for_from_an_untrusted_peer(settings):
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.2"]
    assert client_ip(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_it_takes_the_entry_the_trusted_proxy_appended(settings):
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.2"]
    assert client_ip(_request("10.0.0.2", "6.6.6.6, 198.51.100.1")) == "198.51.100.1"


def test_star_trusts_any_peer_like_gunicorn(settings):
    settings.FORWARDED_ALLOW_IPS = ["*"]
    assert client_ip(_request("172.30.57.10", "198.51.100.1")) == "198.51.100.1"


@pytest.mark.parametrize("forwarded", ["not-an-ip", "", "1.2.3.4.5", "'; DROP TABLE x;--"])
def test_garbage_from_the_proxy_falls_back_to_the_peer(settings, forwarded):
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.2"]
    assert client_ip(_request("10.0.0.2", forwarded)) == "10.0.0.2"
