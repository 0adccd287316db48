"""Writing activity events; callers do it inside the transaction of the change they describe."""

import logging

from activity.actor import Actor
from activity.models import ActivityEvent

security_log = logging.getLogger("parsalink.security")


def activity_record(
    *,
    actor: Actor,
    action: str,
    target_type: str = "",
    target_id: str = "",
    changes: list[str] | None = None,
) -> ActivityEvent:
    """Record one event in the actor's workspace (call inside the change's transaction)."""
    return ActivityEvent.objects.create(
        workspace_id=actor.workspace_id,
        actor_id=actor.user_id,
        api_key_id=actor.api_key_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        ip=actor.ip,
        user_agent=actor.user_agent,
        changes=changes or [],
    )


def security_event(event: str, **fields) -> None:
    """A security-relevant event for the operator's log (stdout JSON); never credentials."""
    security_log.warning(event, extra={"event": event, **fields})
