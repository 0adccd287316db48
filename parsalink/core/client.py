"""Where a request comes from: the client address and user agent, as the apps record them."""

import ipaddress

from django.conf import settings

USER_AGENT_MAX_LENGTH = 300


def _ip_or_none(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client address; X-Forwarded-For is believed only from a trusted proxy.

    The last entry is the one the trusted proxy appended (earlier ones are client-supplied).
    The same rule as gunicorn's `forwarded_allow_ips`, including `*` for "any peer".
    """
    remote = _ip_or_none(request.META.get("REMOTE_ADDR"))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    trusted = settings.FORWARDED_ALLOW_IPS
    if forwarded and ("*" in trusted or remote in trusted):
        return _ip_or_none(forwarded.split(",")[-1]) or remote
    return remote


def user_agent(request) -> str:
    """The User-Agent header, cut to what the activity and usage logs store."""
    return request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH]
