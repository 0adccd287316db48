"""Settings → Activity: the workspace's activity log, newest first, filtered by action and key."""

from django.views.decorators.http import require_http_methods

from accounts.web import person_required, render_page
from activity.forms import ActivityFilterForm
from activity.selectors import activity_list
from apikeys.selectors import api_key_list
from parsalink.core.keyset import keyset_page
from parsalink.ids import is_valid_id


@person_required
@require_http_methods(["GET", "HEAD"])
def activity_page(request):
    workspace_id = request.person.user.workspace_id
    keys = list(api_key_list(workspace_id=workspace_id).order_by("-id"))
    form = ActivityFilterForm(request.GET, api_keys=keys)
    before = request.GET.get("before")
    context = {"title": "Activity", "section": "activity", "form": form, "page": None}
    if not form.is_valid():
        return render_page(request, "activity/list.html", context, status=400)
    events = activity_list(workspace_id=workspace_id, **form.selector_arguments())
    page = keyset_page(
        events.select_related("actor"), before=before if is_valid_id(before or "", "evt") else None
    )
    filters = request.GET.copy()
    filters.pop("before", None)
    context.update(page=page, filters=filters.urlencode())
    return render_page(request, "activity/list.html", context)
