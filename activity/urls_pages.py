"""Browser pages of the activity log: Settings → Activity."""

from django.urls import path

from activity import views

urlpatterns = [
    path("settings/activity/", views.activity_page, name="page-activity"),
]
