"""Admin helpers shared by the apps."""


class ReadOnlyAdminMixin:
    """A record operators may read but never add, change or delete in the admin: evidence
    (activity, key usage) and data whose every change must go through a logged service."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
