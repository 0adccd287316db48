"""Reads for the activity log: every query takes the workspace, so none can leak another's."""

from datetime import datetime

from django.db.models import QuerySet

from activity.models import ActivityEvent
from parsalink.core.ids import is_valid_id


def activity_list(
    *,
    workspace_id: str,
    actor_id: str | None = None,
    api_key_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[ActivityEvent]:
    """The workspace's events, narrowed by the given filters (paged newest first by the view).

    Indexes (activity/models.py): the workspace alone, ?actor= and ?apiKey= each have an
    `(x, -id)` index, so a page is a short index range scan; ?action=, ?since= and ?until= filter
    rows met while walking one of those indexes from the newest.
    """
    queryset = ActivityEvent.objects.filter(workspace_id=workspace_id)
    if actor_id is not None:
        queryset = queryset.filter(actor_id=actor_id)
    if api_key_id is not None:
        queryset = queryset.filter(api_key_id=api_key_id)
    if action is not None:
        queryset = queryset.filter(action=action)
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    if until is not None:
        queryset = queryset.filter(created_at__lt=until)
    return queryset


def activity_get(*, workspace_id: str, event_id: str) -> ActivityEvent | None:
    """One event of the workspace, or None: a foreign or malformed id looks like a missing one."""
    if not is_valid_id(event_id, "evt"):
        return None
    return ActivityEvent.objects.filter(workspace_id=workspace_id, pk=event_id).first()
