"""API-key bearer authentication: format and checksum first, then one lean lookup.

Wrong secrets are budgeted per key id (THROTTLE_API_KEY_FAILURES) and per client address
(THROTTLE_API_KEY_FAILURES_PER_IP, unknown key ids included): over either, the refusal is a 429
with Retry-After instead of a 401. Only failures count, so guesses against a key's id never lock
out its holder, whose right secret passes whatever the budget says.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied, Throttled
from rest_framework.throttling import SimpleRateThrottle

from activity.services import security_event
from apikeys import crypto
from apikeys.scopes import ip_allowed
from apikeys.selectors import KeyAuthRow, api_key_auth_row
from apikeys.services import api_key_lookup_logged, rate_counter_key
from parsalink.core import ratelimit
from parsalink.core.bearer import API_KEY_NAMESPACE, WWW_AUTHENTICATE, bearer_token
from parsalink.core.client import client_ip, user_agent
from parsalink.core.principal import Principal
from parsalink.core.throttling import charge

# Set on the Django HttpRequest for every request that named an existing key (valid or not),
# so ApiKeyUsageMiddleware can log it once the response status is known.
USAGE_KEY_ATTR = "parsalink_api_key_id"
USAGE_TOUCH_ATTR = "parsalink_api_key_touch"
# The usage row the lookup already wrote (PostgreSQL): the middleware only corrects its status.
USAGE_OPENED_ATTR = "parsalink_api_key_usage"
# Set when this class examined a `pk_` token, so the middleware does not look it up again.
SEEN_ATTR = "parsalink_api_key_seen"


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """`request.auth` for key requests: which key, in which workspace, allowed to do what
    (parsalink.core.permissions.KeyScope reads `scopes`), and its THROTTLE_API_KEY count
    (apikeys.throttles reads `rate`; None when the rate is off)."""

    id: str
    workspace_id: str
    scopes: tuple[str, ...] = ()
    rate: ratelimit.Decision | None = None


def _key_rate() -> tuple[int, float] | None:
    """THROTTLE_API_KEY as (limit, period), None when it is off."""
    rate = settings.THROTTLE_API_KEY
    return SimpleRateThrottle.parse_rate(None, rate) if rate else None


class ApiKeyAuthentication(BaseAuthentication):
    """Accepts `Bearer pk_live_…` as the workspace's system user acting through that key.

    Steps aside (None) for other tokens; a `pk_` token that is malformed, unknown, revoked or
    expired is a 401 with its own code; a live key used from outside its allowlist is a 403
    `ip_not_allowed` (the address is client_ip(), the one the usage log records). No cache: a
    revoked or edited key is read fresh on its very next request.
    """

    def authenticate(self, request):
        raw = bearer_token(request)
        if raw is None or not raw.startswith(API_KEY_NAMESPACE):
            return None
        django_request = request._request
        setattr(django_request, SEEN_ATTR, True)
        parsed = crypto.parse(raw)
        if parsed is None:
            raise AuthenticationFailed("The API key is malformed.", code="key_malformed")
        row, rate = self._lookup(request, parsed.key_id)
        if row is None:
            _charge_failure(request, key_id=None)
            raise AuthenticationFailed("The API key is not valid.", code="key_invalid")
        # From here on the request names a real key: it is logged whatever the outcome.
        setattr(django_request, USAGE_KEY_ATTR, parsed.key_id)
        try:
            principal = self._judge(request, parsed, row)
        except Exception:
            if rate is not None:  # only requests the key authenticates count against its rate
                ratelimit.undo(rate_counter_key(parsed.key_id))
            raise
        if rate is None and (limits := _key_rate()) is not None:
            rate = ratelimit.hit(rate_counter_key(parsed.key_id), limit=limits[0], period=limits[1])
        # lastUsedAt records use of the key, never an attempt with a wrong secret or a dead key.
        setattr(django_request, USAGE_TOUCH_ATTR, row.last_used_is_stale)
        return principal, ApiKeyInfo(
            id=parsed.key_id, workspace_id=row.workspace_id, scopes=row.scopes, rate=rate
        )

    def _lookup(self, request, key_id: str) -> tuple[KeyAuthRow | None, ratelimit.Decision | None]:
        """The key's row. On PostgreSQL the same statement writes the request's usage row and,
        with table counters, counts the key's rate: one round trip for all three."""
        if connection.vendor != "postgresql":
            return api_key_auth_row(key_id=key_id, now=timezone.now()), None
        django_request = request._request
        logged = api_key_lookup_logged(
            key_id=key_id,
            method=django_request.method,
            path=django_request.path,
            ip=client_ip(request),
            user_agent=user_agent(django_request),
            rate=_key_rate() if ratelimit.counts_in_table() else None,
        )
        if logged is None:
            return None, None
        setattr(django_request, USAGE_OPENED_ATTR, logged.usage)
        return logged.row, logged.rate

    def _judge(self, request, parsed: crypto.ParsedKey, row: KeyAuthRow) -> Principal:
        """The key's holder, or the refusal: wrong secret, revoked, expired, no system user,
        or an address outside its allowlist."""
        if not crypto.secret_matches(parsed.secret, row.secret_hash):
            _charge_failure(request, key_id=parsed.key_id)
            raise AuthenticationFailed("The API key is not valid.", code="key_invalid")
        if row.is_revoked:
            raise AuthenticationFailed("The API key has been revoked.", code="key_revoked")
        if row.is_expired:
            raise AuthenticationFailed("The API key has expired.", code="key_expired")
        if row.system_user_id is None:
            raise AuthenticationFailed("The API key is not valid.", code="key_invalid")
        if not ip_allowed(client_ip(request), list(row.allowed_ips)):
            raise PermissionDenied(
                "This API key may not be used from this address.", code="ip_not_allowed"
            )
        return Principal(
            id=row.system_user_id,
            email=row.system_user_email,
            first_name=row.system_user_first_name,
            last_name=row.system_user_last_name,
            workspace_id=row.workspace_id,
            is_system=True,
            api_key_id=parsed.key_id,
        )

    def authenticate_header(self, request) -> str:
        return WWW_AUTHENTICATE


def _charge_failure(request, *, key_id: str | None) -> None:
    """Count a failed secret against its key id and its address; Throttled when over either."""
    ip = client_ip(request)
    budgets = [("api_key_failures_ip", "THROTTLE_API_KEY_FAILURES_PER_IP", ip or "unknown")]
    if key_id is not None:
        budgets.append(("api_key_failures", "THROTTLE_API_KEY_FAILURES", key_id))
    refused = []
    for scope, rate_setting, ident in budgets:
        decision = charge(f"throttle_{scope}_{ident}", rate_setting=rate_setting)
        if not decision.allowed:
            refused.append(decision.retry_after)
            security_event("throttled", scope=scope, apiKeyId=key_id, ip=ip)
    if refused:
        raise Throttled(wait=max(refused))
