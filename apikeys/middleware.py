"""Records every request that presented an existing API key, once its status is known."""

import logging

from django.db import DatabaseError

from activity.actor import client_ip
from apikeys.authentication import USAGE_KEY_ATTR, USAGE_TOUCH_ATTR
from apikeys.services import usage_record

logger = logging.getLogger("parsalink.apikeys")


class ApiKeyUsageMiddleware:
    """After the response: one usage row per key request (4xx and rejected keys included).

    Requests without a key pay one getattr. The row is written after the view's transaction has
    ended, so a failing view still leaves its evidence; a failing write is logged, never turned
    into an error for a response that is already decided.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        key_id = getattr(request, USAGE_KEY_ATTR, None)
        if key_id is not None:
            try:
                usage_record(
                    api_key_id=key_id,
                    method=request.method,
                    path=request.path,
                    status=response.status_code,
                    ip=client_ip(request),
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                    touch_last_used=getattr(request, USAGE_TOUCH_ATTR, False),
                )
            except DatabaseError:
                logger.exception("api key usage row not written", extra={"apiKeyId": key_id})
        return response
