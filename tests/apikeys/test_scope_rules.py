"""The scope and allowlist rules of apikeys/scopes.py on their own."""

import pytest

from apikeys.scopes import (
    InvalidKeySettings,
    clean_allowed_ips,
    clean_scopes,
    ip_allowed,
)

pytestmark = pytest.mark.django_db  # the suite-wide cache reset touches the database


def test_scopes_are_deduplicated_into_the_canonical_order():
    assert clean_scopes(["activity:read", "contacts:read", "activity:read"]) == [
        "contacts:read",
        "activity:read",
    ]


def test_addresses_are_canonical_and_deduplicated():
    assert clean_allowed_ips(["2001:DB8::1", "2001:db8:0::1", " 10.0.0.0/8 "]) == [
        "2001:db8::1",
        "10.0.0.0/8",
    ]


def test_fifty_after_deduplication_is_the_limit():
    assert len(clean_allowed_ips([f"10.0.0.{i}" for i in range(50)] * 2)) == 50
    with pytest.raises(InvalidKeySettings) as refused:
        clean_allowed_ips([f"10.0.0.{i}" for i in range(51)])
    assert refused.value.fields == {"allowedIps": ["At most 50 entries."]}


@pytest.mark.parametrize(
    "ip,allowed,expected",
    [
        ("::ffff:203.0.113.7", ["203.0.113.7"], True),
        ("::ffff:198.51.100.7", ["203.0.113.0/24"], False),
        (None, ["203.0.113.7"], False),
        ("garbage", ["203.0.113.7"], False),
        (None, [], True),
    ],
    ids=["ipv4-mapped-in", "ipv4-mapped-out", "no-address", "bad-address", "no-list"],
)
def test_ip_allowed_fails_closed_on_anything_unclear(ip, allowed, expected):
    assert ip_allowed(ip, allowed) is expected
