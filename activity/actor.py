"""Who performed an action, and from where: passed explicitly to every service that writes."""

from dataclasses import dataclass

from parsalink.core.client import client_ip, user_agent


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
            user_agent=user_agent(request),
        )

    @classmethod
    def system(cls, *, workspace_id: str, user_id: str | None = None):
        """An operator action from the command line or Django admin."""
        return cls(workspace_id=workspace_id, user_id=user_id)
