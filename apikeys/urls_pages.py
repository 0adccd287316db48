"""Browser pages of API keys: Settings → API Keys, and Settings → Activity (apikeys/views.py)."""

from django.urls import path

from apikeys import views

urlpatterns = [
    path("settings/api-keys/", views.api_keys_page, name="page-api-keys"),
    path("settings/api-keys/<str:key_id>/", views.api_key_page, name="page-api-key"),
    path(
        "settings/api-keys/<str:key_id>/revoke/",
        views.api_key_revoke_page,
        name="page-api-key-revoke",
    ),
    path("settings/api-keys/<str:key_id>/roll/", views.api_key_roll_page, name="page-api-key-roll"),
    path("settings/activity/", views.activity_page, name="page-activity"),
]
