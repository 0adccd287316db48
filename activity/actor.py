"""Who performed an action, and from where: passed explicitly to every service that writes."""

import ipaddress
from dataclasses import dataclass

from django.conf import settings


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


@dataclass(frozen=True, slots=True)
class Actor:
    workspace_id: str
    user_id: str | None
    api_key_id: str | None = None
    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request, *, workspace_id: str | None = None, user_id: str | None = None):
        """The caller of an authenticated request, or an explicit user for login-type views."""
        user = getattr(request, "user", None)
        return cls(
            workspace_id=workspace_id or user.workspace_id,
            user_id=user_id or getattr(user, "id", None),
            api_key_id=getattr(user, "api_key_id", None),
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )

    @classmethod
    def system(cls, *, workspace_id: str, user_id: str | None = None):
        """An operator action from the command line or Django admin."""
        return cls(workspace_id=workspace_id, user_id=user_id)
