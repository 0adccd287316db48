"""Each app's API routes under /api/ (its urls.py) and its browser pages (its urls_pages.py),
plus schema, docs, probes and the operators' admin."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from accounts.admin_login import admin_login
from parsalink.core import health, pages
from parsalink.core.docs import api_docs_view

urlpatterns = [
    path("api/", include("accounts.urls")),
    path("api/", include("apikeys.urls")),
    path("api/", include("contacts.urls")),
    path("api/", include("activity.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", api_docs_view(), name="docs"),
    path("healthz", health.healthz),
    path("readyz", health.readyz),
    # Ahead of admin.site.urls: the admin's own login view, behind the login budgets.
    path("admin/login/", admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path("favicon.ico", pages.favicon),
    path("settings/", RedirectView.as_view(pattern_name="page-api-keys")),
    path("", include("accounts.urls_pages")),
    path("", include("apikeys.urls_pages")),
]

if settings.PARSALINK_BENCHMARK:
    from contacts.bench import bench_contact_list_view

    urlpatterns.append(path("api/_bench/contacts/", bench_contact_list_view))

handler400 = "parsalink.core.errors.bad_request"
handler403 = "parsalink.core.errors.permission_denied"
handler404 = "parsalink.core.errors.not_found"
handler500 = "parsalink.core.errors.server_error"
