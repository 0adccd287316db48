"""The real URLconf plus one key-accepting probe that shows who the caller is."""

from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.response import Response

from parsalink.urls import urlpatterns as real_urlpatterns


@api_view(["GET", "POST"])
def whoami(request):
    user = request.user
    if request.method == "POST":
        request.data  # parse the body: a malformed one is a 400
    status = int(request.query_params.get("status", 200))
    body = {
        "id": user.id,
        "workspaceId": user.workspace_id,
        "isSystem": user.is_system,
        "apiKeyId": user.api_key_id,
        "auth": getattr(request.auth, "id", None),
    }
    return Response(body, status=status)


# Keys reach only views that declare a scope (KeyScope fails closed).
whoami.cls.required_scopes = {"get": "contacts:read", "post": "contacts:read"}

urlpatterns = [path("probe/whoami/", whoami), *real_urlpatterns]
