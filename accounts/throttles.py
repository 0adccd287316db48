"""Login and refresh throttles (DRF, on the shared cache): windows, never permanent lockouts."""

import hashlib
import logging

from rest_framework.throttling import SimpleRateThrottle

from accounts.models import normalize_email

throttle_log = logging.getLogger("parsalink.security")


class _LoggedThrottle(SimpleRateThrottle):
    def throttle_failure(self) -> bool:
        throttle_log.warning(
            "throttled", extra={"event": "throttled", "scope": self.scope, "key": self.key_hint}
        )
        return False

    key_hint = ""


class LoginPerIpThrottle(_LoggedThrottle):
    scope = "login_ip"

    def get_cache_key(self, request, view):
        self.key_hint = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": self.key_hint}


class LoginPerEmailThrottle(_LoggedThrottle):
    """Per account, whatever IP the attempts come from (credential stuffing against one user)."""

    scope = "login_email"

    def get_cache_key(self, request, view):
        email = request.data.get("email") if isinstance(request.data, dict) else None
        if not isinstance(email, str) or not email:
            return None
        self.key_hint = "email"
        # The body is not validated yet: a digest keeps any string (NUL bytes, lone surrogates,
        # 1 MiB of text) a short, safe cache key, and keeps addresses out of the cache.
        email_bytes = normalize_email(email).encode("utf-8", "surrogatepass")
        ident = hashlib.sha256(email_bytes).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class RefreshPerIpThrottle(LoginPerIpThrottle):
    scope = "refresh_ip"
