"""Login, refresh and password-guess budgets: windows in the shared store, never lockouts.

The per-email budget is one counter per person, shared by every way of guessing their
password: API login, password change (wrong current passwords only) and the admin login.
"""

import hashlib
import logging
from dataclasses import dataclass

from accounts.models import normalize_email
from parsalink.core import ratelimit
from parsalink.core.client import client_ip
from parsalink.core.throttling import StoreRateThrottle, charge

throttle_log = logging.getLogger("parsalink.security")


def login_email_key(email: str) -> str:
    """The per-email budget's key. The input may be unvalidated: a digest keeps any string
    (NUL bytes, lone surrogates, 1 MiB of text) a short, safe key, and addresses out of the
    store."""
    email_bytes = normalize_email(email).encode("utf-8", "surrogatepass")
    return f"throttle_login_email_{hashlib.sha256(email_bytes).hexdigest()}"


def login_ip_key(ip: str | None) -> str:
    return f"throttle_login_ip_{ip or 'unknown'}"


def _log_throttled(scope: str, key_hint: str) -> None:
    throttle_log.warning("throttled", extra={"event": "throttled", "scope": scope, "key": key_hint})


class _LoggedThrottle(StoreRateThrottle):
    key_hint = ""

    def throttle_failure(self) -> bool:
        _log_throttled(self.scope, self.key_hint)
        return False


class LoginPerIpThrottle(_LoggedThrottle):
    scope = "login_ip"
    rate_setting = "THROTTLE_LOGIN_PER_IP"

    def get_cache_key(self, request, view):
        self.key_hint = self.get_ident(request)
        return login_ip_key(self.key_hint)


class LoginPerEmailThrottle(_LoggedThrottle):
    """Per account, whatever IP the attempts come from (credential stuffing against one user)."""

    scope = "login_email"
    rate_setting = "THROTTLE_LOGIN_PER_EMAIL"

    def get_cache_key(self, request, view):
        email = request.data.get("email") if isinstance(request.data, dict) else None
        if not isinstance(email, str) or not email:
            return None
        self.key_hint = "email"
        return login_email_key(email)


class RefreshPerIpThrottle(_LoggedThrottle):
    scope = "refresh_ip"
    rate_setting = "THROTTLE_REFRESH_PER_IP"

    def get_cache_key(self, request, view):
        self.key_hint = self.get_ident(request)
        return f"throttle_refresh_ip_{self.key_hint}"


@dataclass(frozen=True, slots=True)
class Budget:
    """A budget charged outside DRF's throttle hook (admin login, password change)."""

    scope: str
    rate_setting: str
    key: str
    key_hint: str

    def charge(self) -> ratelimit.Decision:
        """Count one attempt; a refusal is logged like a DRF throttle's."""
        decision = charge(self.key, rate_setting=self.rate_setting)
        if not decision.allowed:
            _log_throttled(self.scope, self.key_hint)
        return decision

    def refund(self) -> None:
        ratelimit.undo(self.key)


def login_email_budget(email: str) -> Budget:
    return Budget("login_email", "THROTTLE_LOGIN_PER_EMAIL", login_email_key(email), "email")


def login_ip_budget(request) -> Budget:
    ip = client_ip(request)
    return Budget("login_ip", "THROTTLE_LOGIN_PER_IP", login_ip_key(ip), ip or "unknown")


def login_form_over_budget(request, email: str) -> int | None:
    """Charge a browser sign-in attempt (admin or /login/) to the API login's per-IP and
    per-email budgets: the seconds to wait when either is spent, else None."""
    budgets = [login_ip_budget(request)]
    if email:
        budgets.append(login_email_budget(email))
    refused = [d.retry_after for d in (b.charge() for b in budgets) if not d.allowed]
    return max(refused) if refused else None
