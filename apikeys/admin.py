"""Operators' admin: keys per workspace (the full key shown once on add), read-only usage log.

The new key is rendered into the response to the add form and nowhere else: never a message
(Django's message cookie is signed, not encrypted), the session, or a page that can be reloaded.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from activity.actor import Actor
from apikeys import services
from apikeys.models import ApiKey, ApiKeyUsage
from parsalink.core.admin_mixins import ReadOnlyAdminMixin

_KEY_COLUMNS = (
    "id",
    "name",
    "prefix",
    "workspace",
    "created_at",
    "created_by",
    "last_used_at",
    "expires_at",
    "revoked_at",
)


class ApiKeyAddForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ("workspace", "name", "expires_at")


# The plain key, on the in-memory instance between save_model and response_add only.
_PLAIN_ATTR = "_parsalink_plain_key"


def _operator(request, workspace_id: str) -> Actor:
    return Actor.from_request(request, workspace_id=workspace_id, user_id=request.user.pk)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = _KEY_COLUMNS
    list_filter = ("workspace",)
    list_select_related = ("workspace", "created_by")
    search_fields = ("id", "name")
    ordering = ("workspace", "-id")
    actions = ["revoke_selected"]
    readonly_fields = _KEY_COLUMNS
    add_form = ApiKeyAddForm

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        return ApiKeyAddForm.Meta.fields if obj is None else _KEY_COLUMNS

    def has_change_permission(self, request, obj=None) -> bool:
        # Keys are changed only through the service (revoke action); the detail page is a view.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting would erase the usage evidence; revoke instead.
        return False

    def has_revoke_permission(self, request) -> bool:
        # Revoking is the only change a key allows, so it takes the model's change permission.
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def save_model(self, request, obj, form, change) -> None:
        """Create through the service (hash only, activity event); response_add shows the key."""
        created = services.api_key_create(
            actor=_operator(request, obj.workspace_id),
            name=obj.name,
            expires_at=obj.expires_at,
        )
        obj.__dict__.update(created.api_key.__dict__)
        obj._state.adding = False
        setattr(obj, _PLAIN_ATTR, created.plain)

    def response_add(self, request, obj, post_url_continue=None):
        """The key, shown in this response only and never stored by the browser (no-store)."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "API key created",
            "api_key": obj,
            "plain_key": obj.__dict__.pop(_PLAIN_ATTR),
        }
        response = TemplateResponse(request, "admin/apikeys/apikey/created.html", context)
        add_never_cache_headers(response)
        return response

    @admin.action(description="Revoke selected keys", permissions=["revoke"])
    def revoke_selected(self, request, queryset) -> None:
        with transaction.atomic():
            keys = list(queryset.filter(revoked_at__isnull=True))
            for api_key in keys:
                services.api_key_revoke(
                    api_key=api_key, actor=_operator(request, api_key.workspace_id)
                )
        self.message_user(request, f"Revoked {len(keys)} key(s).", messages.SUCCESS)


@admin.register(ApiKeyUsage)
class ApiKeyUsageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "api_key", "method", "path", "status", "ip", "user_agent")
    list_filter = ("api_key__workspace",)
    list_select_related = ("api_key",)
    search_fields = ("=api_key__id",)
    # A usage table grows to millions of rows: never COUNT(*) it for the changelist header.
    show_full_result_count = False
    raw_id_fields = ("api_key",)
