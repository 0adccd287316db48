"""Operators' admin: the activity log, read-only, filterable by workspace, actor, key and action."""

from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from activity.models import ActivityEvent
from parsalink.core.admin_mixins import ReadOnlyAdminMixin

# The actions the server records (filter choices without a DISTINCT scan of a large table).
KNOWN_ACTIONS = (
    "contact.created",
    "contact.updated",
    "contact.deleted",
    "api_key.created",
    "api_key.revoked",
    "api_key.rolled",
    "auth.login",
    "auth.login_failed",
    "auth.logout",
    "auth.logout_all",
    "auth.password_changed",
    "auth.refresh_reuse_detected",
)


class ActionFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(action, action) for action in KNOWN_ACTIONS]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class _WorkspaceScopedFilter(admin.SimpleListFilter):
    """Choices from the workspace picked in the workspace filter (none until one is picked)."""

    def _workspace_id(self, request) -> str | None:
        return request.GET.get("workspace__id__exact")

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{f"{self.parameter_name}_id": self.value()})
        return queryset


class ActorFilter(_WorkspaceScopedFilter):
    title = _("actor (pick a workspace first)")
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        workspace_id = self._workspace_id(request)
        if not workspace_id:
            return []
        users = get_user_model().objects.filter(workspace_id=workspace_id).order_by("email")
        return [(user.id, user.email) for user in users[:200]]


class ApiKeyFilter(_WorkspaceScopedFilter):
    title = _("API key (pick a workspace first)")
    parameter_name = "api_key"

    def lookups(self, request, model_admin):
        workspace_id = self._workspace_id(request)
        if not workspace_id:
            return []
        # String reference: activity sits below apikeys and does not import it.
        keys = apps.get_model("apikeys", "ApiKey").objects.filter(workspace_id=workspace_id)
        return [(key.id, f"{key.name} ({key.id})") for key in keys.order_by("-id")[:200]]


@admin.register(ActivityEvent)
class ActivityEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "workspace_id",
        "action",
        "actor_id",
        "api_key_id",
        "target_type",
        "target_id",
        "ip",
    )
    list_filter = ("workspace", ActorFilter, ApiKeyFilter, ActionFilter)
    search_fields = ("=id", "=target_id", "=actor__id", "=api_key__id")
    ordering = ("-id",)
    show_full_result_count = False
    readonly_fields = [field.name for field in ActivityEvent._meta.fields]
