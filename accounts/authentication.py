"""JWT bearer authentication: decode (simplejwt), then one lean user lookup."""

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts import tokens
from accounts.selectors import principal_for_token
from parsalink.core.bearer import API_KEY_NAMESPACE, WWW_AUTHENTICATE, bearer_token


class JWTBearerAuthentication(BaseAuthentication):
    """Accepts `Bearer <access JWT>`; steps aside (None) for API keys and other schemes."""

    def authenticate(self, request):
        raw = bearer_token(request)
        if raw is None or raw.startswith(API_KEY_NAMESPACE):
            return None
        try:
            claims = tokens.decode(raw, tokens.ACCESS)
        except tokens.InvalidToken as exc:
            raise AuthenticationFailed(exc.message, code="token_not_valid") from None
        principal = principal_for_token(
            user_id=claims.user_id, session_id=claims.session_id, issued_ms=claims.issued_ms
        )
        if principal is None:
            raise AuthenticationFailed("Token is no longer valid.", code="token_not_valid")
        return principal, claims

    def authenticate_header(self, request) -> str:
        return WWW_AUTHENTICATE
