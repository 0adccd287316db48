"""Django admin for operators: workspaces and users.

Deactivation and a password reset end the person's sessions at once (user_deactivate, User.save).
A workspace's system user is view-only: its API keys act as it, so it is never deactivated,
deleted, moved to another workspace or given a password here.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User, Workspace
from accounts.services import users
from activity.actor import Actor


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "created_at")
    search_fields = ("id", "name")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            created = users.workspace_create(name=obj.name)
            obj.pk, obj.created_at = created.pk, created.created_at


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "workspace", "is_active", "is_system")
    list_filter = ("is_active", "is_staff", "is_system", "workspace")
    search_fields = ("email", "first_name", "last_name", "id")
    readonly_fields = ("id", "is_system", "date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("id", "email", "password", "workspace")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {
                "fields": (
                    "is_active",
                    "is_system",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "workspace",
                    "first_name",
                    "last_name",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_system:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Also asked per object by the "delete selected" action's confirmation.
        if obj is not None and obj.is_system:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        was_active = change and User.objects.filter(pk=obj.pk, is_active=True).exists()
        super().save_model(request, obj, form, change)
        if was_active and not obj.is_active:
            users.user_deactivate(
                user=obj, actor=Actor.system(workspace_id=obj.workspace_id, user_id=request.user.pk)
            )
