"""/api/auth/ routes (included under api/ by parsalink/urls.py)."""

from rest_framework.routers import SimpleRouter

from accounts.api import AuthViewSet, SessionViewSet

router = SimpleRouter(trailing_slash=True)
router.register("auth/sessions", SessionViewSet, basename="session")
router.register("auth", AuthViewSet, basename="auth")

urlpatterns = router.urls
