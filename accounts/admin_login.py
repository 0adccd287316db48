"""`/admin/login/` under the same per-email and per-IP budgets as the API login.

The budgets are charged before Django's form authenticates (and hashes), with the very same
counters as `POST /api/auth/login/`, so alternating between the two gains a guesser nothing.
Over budget: a readable page, status 429 with Retry-After. CSRF is checked first, so a foreign
page cannot spend a person's budget through their browser.
"""

from django.contrib import admin
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from accounts.throttles import login_form_over_budget


def _refusal(request):
    """The 429 page when this POST is over a budget, else None (the attempt is counted)."""
    retry_after = login_form_over_budget(request, request.POST.get("username", ""))
    if retry_after is None:
        return None
    context = {**admin.site.each_context(request), "retry_after": retry_after}
    response = render(request, "accounts/admin_login_throttled.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


@csrf_protect
@never_cache
def admin_login(request, extra_context=None):
    if request.method == "POST":
        refusal = _refusal(request)
        if refusal is not None:
            return refusal
    return admin.site.login(request, extra_context=extra_context)
