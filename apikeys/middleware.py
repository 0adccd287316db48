"""Records every request that presented an existing API key, once its status is known."""

import logging

from django.db import DatabaseError
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from apikeys import crypto
from apikeys.authentication import SEEN_ATTR, USAGE_KEY_ATTR, USAGE_OPENED_ATTR, USAGE_TOUCH_ATTR
from apikeys.selectors import api_key_auth_row
from apikeys.services import usage_record, usage_settle
from parsalink.core.bearer import API_KEY_NAMESPACE, bearer_token
from parsalink.core.client import client_ip, user_agent

logger = logging.getLogger("parsalink.apikeys")


def _key_id_not_seen_by_drf(request) -> str | None:
    """The id of an existing key presented to a request no API view authenticated (refused over
    plain HTTP or for its size, an unrouted 404), so it is in the key's usage log too. Costs
    nothing without a key."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if API_KEY_NAMESPACE not in header or getattr(request, SEEN_ATTR, False):
        return None
    try:
        raw = bearer_token(request)
    except AuthenticationFailed:
        return None
    parsed = crypto.parse(raw) if raw else None
    if parsed is None or api_key_auth_row(key_id=parsed.key_id, now=timezone.now()) is None:
        return None
    return parsed.key_id


class ApiKeyUsageMiddleware:
    """After the response: one usage row per key request (4xx and rejected keys included).

    It sits outside the HTTPS refusal and the body limit (settings.MIDDLEWARE), so requests
    refused before any view ran are logged too: they are the exposure a key's owner must see.
    On PostgreSQL the key's lookup has already written the row (apikeys.services
    .api_key_lookup_logged), under the status the request was expected to end with: here it is
    corrected when the response says otherwise, and lastUsedAt moved when stale — most requests
    cost nothing more. Otherwise ApiKeyAuthentication marks the request with the key's id as soon
    as it has found the key, before deciding, and the row is written here, after the view's
    transaction has ended. Requests without a key pay a few getattrs and one substring test.
    Either way the row is final before the response leaves the worker. A failing write is
    logged, never turned into an error for a response that is already decided.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        try:
            opened = getattr(request, USAGE_OPENED_ATTR, None)
            if opened is not None:  # written by the key lookup: correct it if need be
                usage_settle(
                    usage=opened,
                    status=response.status_code,
                    touch_last_used=getattr(request, USAGE_TOUCH_ATTR, False),
                    api_key_id=getattr(request, USAGE_KEY_ATTR),
                )
                return response
            key_id = getattr(request, USAGE_KEY_ATTR, None) or _key_id_not_seen_by_drf(request)
            if key_id is not None:
                usage_record(
                    api_key_id=key_id,
                    method=request.method,
                    path=request.path,
                    status=response.status_code,
                    ip=client_ip(request),
                    user_agent=user_agent(request),
                    touch_last_used=getattr(request, USAGE_TOUCH_ATTR, False),
                )
        except DatabaseError:
            logger.exception("api key usage row not written")
        return response
