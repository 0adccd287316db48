"""/api/activity/ routes (included under api/ by parsalink/urls.py)."""

from rest_framework.routers import SimpleRouter

from activity.api import ActivityViewSet

router = SimpleRouter(trailing_slash=True)
router.register("activity", ActivityViewSet, basename="activity")

urlpatterns = router.urls
