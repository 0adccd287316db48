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


class KeyScope(BasePermission):
    """API keys may call a view only for the scope it declares for the action; fail closed.

    A view reachable by keys sets `required_scopes`, a dict from action (or lower-case HTTP
    method for plain APIViews) to scope name. An action it does not name is refused to keys, so
    a new view or action is closed to them until it says what it needs. Other callers pass.
    """

    message = "This API key's scopes do not allow this request."
    code = "insufficient_scope"

    def has_permission(self, request, view) -> bool:
        if getattr(request.user, "api_key_id", None) is None:
            return True
        needed = required_scope(view, request)
        return needed is not None and needed in getattr(request.auth, "scopes", ())


def required_scope(view, request) -> str | None:
    """The scope `view` declares for this request's action, or None when it declares none."""
    declared = getattr(view, "required_scopes", None) or {}
    action = getattr(view, "action", None) or request.method.lower()
    return declared.get(action)
