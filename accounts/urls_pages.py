"""Browser pages of accounts (HTML; the API lives under /api/)."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.landing_page, name="page-landing"),
    path("login/", views.login_page, name="page-login"),
    path("logout/", views.logout_page, name="page-logout"),
    path("settings/sessions/", views.sessions_page, name="page-sessions"),
    path(
        "settings/sessions/end-others/",
        views.sessions_end_others_page,
        name="page-sessions-end-others",
    ),
    path(
        "settings/sessions/<str:session_id>/end/", views.session_end_page, name="page-session-end"
    ),
]
