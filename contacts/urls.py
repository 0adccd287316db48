"""/api/contacts/ routes (included under api/ by parsalink/urls.py)."""

from rest_framework.routers import SimpleRouter

from contacts.api import ContactViewSet

router = SimpleRouter(trailing_slash=True)
router.register("contacts", ContactViewSet, basename="contact")

urlpatterns = router.urls
