"""Settings → API Keys (the keys, create shown once, roll, revoke, usage log) and Settings →
Activity (the workspace's log filtered by action and key: here, because its key filter reads the
keys and imports flow from apikeys down to accounts and activity, never up).

Every write goes through apikeys.services with the signed-in person as the actor, so the
activity events are the API's. The full key exists only in the one response that creates it
(`Cache-Control: no-store`): never stored, never in a cookie, the session or a message.
"""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.web import page_actor, person_required, render_page
from activity.forms import ActivityFilterForm
from activity.selectors import activity_list
from apikeys import selectors, services
from apikeys.forms import ApiKeyCreateForm, ApiKeyEditForm, ApiKeyRollForm
from parsalink.core.ids import is_valid_id
from parsalink.core.keyset import keyset_page
from parsalink.core.pages import page_not_found


def _key_or_none(request, key_id: str):
    return selectors.api_key_get(workspace_id=request.person.user.workspace_id, key_id=key_id)


def _list(request, form, *, status=200):
    now = timezone.now()
    keys = (
        selectors.api_key_list(workspace_id=request.person.user.workspace_id)
        .select_related("created_by")
        .order_by("-id")
    )
    rows = [(key, selectors.api_key_state(key, now=now)) for key in keys]
    context = {"title": "API Keys", "section": "api-keys", "rows": rows, "form": form}
    return render_page(request, "apikeys/list.html", context, status=status)


def _shown_once(request, created: services.CreatedKey, *, rolled_from=None):
    context = {
        "title": "Your new API key",
        "section": "api-keys",
        "api_key": created.api_key,
        "plain": created.plain,
        "rolled_from": rolled_from,
    }
    return render_page(request, "apikeys/created.html", context, status=201)


@person_required
@require_http_methods(["GET", "HEAD", "POST"])
def api_keys_page(request):
    if request.method != "POST":
        return _list(request, ApiKeyCreateForm())
    form = ApiKeyCreateForm(request.POST)
    if not form.is_valid():
        return _list(request, form, status=400)
    created = services.api_key_create(actor=page_actor(request), **form.service_arguments())
    return _shown_once(request, created)


def _usage_before(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 19 else None


@person_required
@require_http_methods(["GET", "HEAD", "POST"])
def api_key_page(request, key_id: str):
    """The key, its settings form (a POST here edits them) and its usage log."""
    api_key = _key_or_none(request, key_id)
    if api_key is None:
        return page_not_found(request)
    form = ApiKeyEditForm.for_key(api_key, request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        services.api_key_update(
            api_key=api_key, actor=page_actor(request), **form.service_arguments()
        )
        messages.success(request, f"The key “{form.cleaned_data['name']}” is saved.")
        return redirect("page-api-key", key_id=api_key.pk)
    page = keyset_page(
        selectors.api_key_usage_list(api_key_id=api_key.pk),
        before=_usage_before(request.GET.get("before")),
    )
    flags = selectors.usage_flags(api_key=api_key, rows=page.rows)
    context = {
        "title": f"API key {api_key.name}",
        "section": "api-keys",
        "api_key": api_key,
        "state": selectors.api_key_state(api_key, now=timezone.now()),
        "page": page,
        "usage": list(zip(page.rows, flags, strict=True)),
        "form": form,
    }
    status = 400 if form.is_bound else 200
    return render_page(request, "apikeys/detail.html", context, status=status)


@person_required
@require_http_methods(["GET", "HEAD", "POST"])
def api_key_revoke_page(request, key_id: str):
    api_key = _key_or_none(request, key_id)
    if api_key is None:
        return page_not_found(request)
    if request.method == "POST":
        services.api_key_revoke(api_key=api_key, actor=page_actor(request))
        messages.success(request, f"The key “{api_key.name}” is revoked: it no longer works.")
        return redirect("page-api-keys")
    context = {"title": f"Revoke {api_key.name}", "section": "api-keys", "api_key": api_key}
    return render_page(request, "apikeys/revoke.html", context)


@person_required
@require_http_methods(["GET", "HEAD", "POST"])
def api_key_roll_page(request, key_id: str):
    api_key = _key_or_none(request, key_id)
    if api_key is None:
        return page_not_found(request)
    form = ApiKeyRollForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.api_key_roll(
                api_key=api_key, actor=page_actor(request), **form.service_arguments()
            )
        except services.KeyAlreadyRevoked:
            messages.error(request, "A revoked key cannot be rolled; create a new key instead.")
            return redirect("page-api-keys")
        return _shown_once(request, created, rolled_from=api_key)
    context = {"title": f"Roll {api_key.name}", "section": "api-keys", "api_key": api_key}
    status = 400 if form.is_bound else 200
    return render_page(request, "apikeys/roll.html", {**context, "form": form}, status=status)


@person_required
@require_http_methods(["GET", "HEAD"])
def activity_page(request):
    workspace_id = request.person.user.workspace_id
    keys = list(selectors.api_key_list(workspace_id=workspace_id).order_by("-id"))
    form = ActivityFilterForm(request.GET, api_keys=keys)
    context = {"title": "Activity", "section": "activity", "form": form, "page": None}
    if not form.is_valid():
        return render_page(request, "activity/list.html", context, status=400)
    before = request.GET.get("before") or ""
    page = keyset_page(
        activity_list(workspace_id=workspace_id, **form.selector_arguments()).select_related(
            "actor"
        ),
        before=before if is_valid_id(before, "evt") else None,
    )
    filters = request.GET.copy()
    filters.pop("before", None)
    context.update(page=page, filters=filters.urlencode())
    return render_page(request, "activity/list.html", context)
