"""/api/api-keys/ routes (included under api/ by parsalink/urls.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apikeys.api import ApiKeyViewSet
from apikeys.api_leaks import LeakReportView

router = SimpleRouter(trailing_slash=True)
router.register("api-keys", ApiKeyViewSet, basename="api-key")

# Before the router: its detail route would otherwise take "leaked" for a key id.
urlpatterns = [
    path("api-keys/leaked/", LeakReportView.as_view(), name="api-key-leaked"),
    *router.urls,
]
