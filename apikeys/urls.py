"""/api/api-keys/ routes (included under api/ by parsalink/urls.py)."""

from rest_framework.routers import SimpleRouter

from apikeys.api import ApiKeyViewSet

router = SimpleRouter(trailing_slash=True)
router.register("api-keys", ApiKeyViewSet, basename="api-key")

urlpatterns = router.urls
