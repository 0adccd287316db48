"""Permissions shared by the apps."""

from rest_framework.permissions import BasePermission

# Everything an API key can be allowed to do; a key holds a non-empty subset (default: all).
CONTACTS_READ = "contacts:read"
CONTACTS_WRITE = "contacts:write"
ACTIVITY_READ = "activity:read"
ALL_SCOPES = (CONTACTS_READ, CONTACTS_WRITE, ACTIVITY_READ)


class IsPerson(BasePermission):
    """A person with a user token; API keys get 403 (a leaked key must not manage keys)."""

    message = "This endpoint requires a user token; API keys are not accepted here."
    code = "user_token_required"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "is_person", False))
