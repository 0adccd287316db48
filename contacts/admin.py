"""Operators' admin: contacts listed and searched per workspace, read-only.

Changes go through the API (contacts.services), so each one is in the activity log with its actor.
"""

from django.contrib import admin

from contacts.models import Contact
from parsalink.core.admin_mixins import ReadOnlyAdminMixin


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "first_name", "last_name", "email", "company", "workspace", "created_at")
    list_filter = ("workspace",)
    list_select_related = ("workspace",)
    search_fields = ("=id", "first_name", "last_name", "email", "company")
    ordering = ("workspace", "-id")
    # COUNT(*) over a million contacts on every page is not worth the number it shows.
    show_full_result_count = False
    readonly_fields = [field.name for field in Contact._meta.fields]
