"""What a key may do and where from: scope names and address allowlists, validated here only.

Scopes are checked by parsalink.core.permissions.KeyScope (each view declares what it needs);
allowlists by ApiKeyAuthentication against client_ip(), the address the usage log records.
A CIDR range with host bits set (`10.0.0.1/24`) is refused, not normalised: it is most often a
typo for a single address, and silently widening it would grant more than was asked.
"""

import ipaddress

from parsalink.core.errors import AppError
from parsalink.core.permissions import ALL_SCOPES

MAX_ALLOWED_IPS = 50
DEFAULT_SCOPES = list(ALL_SCOPES)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class InvalidKeySettings(AppError):
    """A scope or address list that is not acceptable; `fields` says which and why."""

    status_code = 400
    code = "invalid"
    detail = "Invalid input."


def default_scopes() -> list[str]:
    """The model default: a key created without scopes may do everything a key can."""
    return list(ALL_SCOPES)


def clean_scopes(scopes: list[str]) -> list[str]:
    """Known names only, at least one; duplicates dropped, in the canonical order."""
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise _invalid("scopes", "Must be a list of scope names.")
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise _invalid("scopes", f"Unknown scope: {', '.join(unknown)}.")
    if not scopes:
        raise _invalid("scopes", "At least one scope is required.")
    return [s for s in ALL_SCOPES if s in scopes]


def clean_allowed_ips(entries: list[str]) -> list[str]:
    """Addresses and CIDR ranges (IPv4, IPv6) in canonical text, deduplicated, at most 50."""
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise _invalid("allowedIps", "Must be a list of addresses or CIDR ranges.")
    cleaned: list[str] = []
    for entry in entries:
        try:
            text = _canonical(entry.strip())
        except ValueError:
            raise _invalid("allowedIps", f"Not an address or CIDR range: {entry[:60]!r}.") from None
        if text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_ALLOWED_IPS:
        raise _invalid("allowedIps", f"At most {MAX_ALLOWED_IPS} entries.")
    return cleaned


def _canonical(entry: str) -> str:
    """`2001:DB8::1` → `2001:db8::1`, `10.0.0.0/8` stays; a range with host bits set raises."""
    if "/" in entry:
        return str(ipaddress.ip_network(entry, strict=True))
    return str(ipaddress.ip_address(entry))


def ip_allowed(ip: str | None, allowed: list[str]) -> bool:
    """True when the list is empty (any address) or `ip` falls in one of its entries."""
    if not allowed:
        return True
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _invalid(field: str, message: str) -> InvalidKeySettings:
    return InvalidKeySettings(fields={field: [message]})
