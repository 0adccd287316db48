"""Operators' admin: keys per workspace (the full key shown once on add), read-only usage log.

Name, scopes and allowed addresses are edited through apikeys.services.api_key_update (the same
validation and `api_key.updated` event as the API); every other field is read-only.

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
from apikeys.forms import KeySettingsFields
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
_EDITABLE = ("name", "scopes", "allowed_ips")
_READ_ONLY = (
    *(column for column in _KEY_COLUMNS if column not in _EDITABLE),
    "revoked_reason",
    "revoked_source",
)


class _KeySettingsAdminForm(KeySettingsFields, forms.ModelForm):
    """Scopes as checkboxes and addresses one per line, as on the Settings pages."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["scopes"] = list(self.instance.scopes)
            self.initial["allowed_ips"] = "\n".join(self.instance.allowed_ips)


class ApiKeyAddForm(_KeySettingsAdminForm):
    class Meta:
        model = ApiKey
        fields = ("workspace", "name", "expires_at", "scopes", "allowed_ips")


class ApiKeyChangeForm(_KeySettingsAdminForm):
    class Meta:
        model = ApiKey
        fields = _EDITABLE

    def service_arguments(self) -> dict:
        return {"name": self.cleaned_data["name"], **self.settings_arguments()}


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
    readonly_fields = _READ_ONLY
    add_form = ApiKeyAddForm
    form = ApiKeyChangeForm

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = self.add_form if obj is None else self.form
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        return ApiKeyAddForm.Meta.fields if obj is None else (*_EDITABLE, *_READ_ONLY)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting would erase the usage evidence; revoke instead.
        return False

    def has_revoke_permission(self, request) -> bool:
        # Revoking, like editing name, scopes and addresses, takes the model's change permission.
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def save_model(self, request, obj, form, change) -> None:
        """Create or update through the service (hash only, activity event); response_add
        shows a new key."""
        actor = _operator(request, obj.workspace_id)
        if change:
            services.api_key_update(api_key=obj, actor=actor, **form.service_arguments())
            return
        created = services.api_key_create(
            actor=actor,
            name=obj.name,
            expires_at=obj.expires_at,
            **form.settings_arguments(),
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
