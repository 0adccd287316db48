"""API-key bearer authentication: format and checksum first, then one lean lookup."""

from dataclasses import dataclass

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts.bearer import WWW_AUTHENTICATE, bearer_token
from accounts.principal import Principal
from apikeys import crypto
from apikeys.selectors import api_key_auth_row

# Bearer credentials in this namespace are ours; anything else belongs to another class.
NAMESPACE = "pk_"
# Set on the Django HttpRequest for every request that named an existing key (valid or not),
# so ApiKeyUsageMiddleware can log it once the response status is known.
USAGE_KEY_ATTR = "parsalink_api_key_id"
USAGE_TOUCH_ATTR = "parsalink_api_key_touch"
# Set when this class examined a `pk_` token, so the middleware does not look it up again.
SEEN_ATTR = "parsalink_api_key_seen"


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """`request.auth` for key requests: which key, in which workspace."""

    id: str
    workspace_id: str


class ApiKeyAuthentication(BaseAuthentication):
    """Accepts `Bearer pk_live_…` as the workspace's system user acting through that key.

    Steps aside (None) for other tokens; a `pk_` token that is malformed, unknown, revoked or
    expired is a 401 with its own code. No cache: a revoked key fails on its very next request.
    """

    def authenticate(self, request):
        raw = bearer_token(request)
        if raw is None or not raw.startswith(NAMESPACE):
            return None
        django_request = request._request
        setattr(django_request, SEEN_ATTR, True)
        parsed = crypto.parse(raw)
        if parsed is None:
            raise AuthenticationFailed("The API key is malformed.", code="key_malformed")
        row = api_key_auth_row(key_id=parsed.key_id, now=timezone.now())
        if row is None:
            raise AuthenticationFailed("The API key is not valid.", code="key_invalid")
        # From here on the request names a real key: it is logged whatever the outcome.
        setattr(django_request, USAGE_KEY_ATTR, parsed.key_id)
        setattr(django_request, USAGE_TOUCH_ATTR, row.last_used_is_stale)
        if not crypto.secret_matches(parsed.secret, row.secret_hash):
            raise AuthenticationFailed("The API key is not valid.", code="key_invalid")
        if row.is_revoked:
            raise AuthenticationFailed("The API key has been revoked.", code="key_revoked")
        if row.is_expired:
            raise AuthenticationFailed("The API key has expired.", code="key_expired")
        if row.system_user_id is None:
            raise AuthenticationFailed("The API key is not valid.", code="key_invalid")
        principal = Principal(
            id=row.system_user_id,
            email=row.system_user_email,
            first_name=row.system_user_first_name,
            last_name=row.system_user_last_name,
            workspace_id=row.workspace_id,
            is_system=True,
            api_key_id=parsed.key_id,
        )
        return principal, ApiKeyInfo(id=parsed.key_id, workspace_id=row.workspace_id)

    def authenticate_header(self, request) -> str:
        return WWW_AUTHENTICATE
