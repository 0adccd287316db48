"""Writes for contacts: each one in a transaction together with its activity event."""

from django.db import transaction
from django.utils import timezone

from activity.actor import Actor
from activity.services import activity_record
from contacts.models import Contact
from parsalink.core.errors import AppError

# The model fields a client may write, and the names the API (and the activity log) uses for them.
API_NAMES = {
    "first_name": "firstName",
    "last_name": "lastName",
    "email": "email",
    "phone": "phone",
    "company": "company",
    "notes": "notes",
}


class ContactNotFound(AppError):
    """The contact was deleted meanwhile, or is not in the actor's workspace."""

    status_code = 404
    code = "not_found"
    detail = "Not found."


# Foreign keys are set by the service itself; validating them would cost a query each.
_CLEAN_EXCLUDE = ["workspace", "created_by"]


def _api_names(fields) -> list[str]:
    return sorted(API_NAMES[name] for name in fields)


def _check_writable(data: dict[str, object]) -> None:
    unknown = set(data) - set(API_NAMES)
    if unknown:
        raise ValueError(f"not writable contact fields: {sorted(unknown)}")


@transaction.atomic
def contact_create(*, actor: Actor, data: dict[str, object]) -> Contact:
    """Create a contact in the actor's workspace and record `contact.created`."""
    _check_writable(data)
    contact = Contact(workspace_id=actor.workspace_id, created_by_id=actor.user_id, **data)
    contact.updated_at = contact.created_at
    contact.full_clean(exclude=_CLEAN_EXCLUDE, validate_unique=False)
    contact.save(force_insert=True)
    activity_record(
        actor=actor,
        action="contact.created",
        target_type="contact",
        target_id=contact.id,
        changes=_api_names(field for field, value in data.items() if value != ""),
    )
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, actor: Actor, data: dict[str, object]) -> Contact:
    """Apply `data` to `contact`; record `contact.updated` with the fields whose value changed.

    The row is re-read under a lock, so "what changed" is decided against the committed row and
    not the copy the view read earlier (two PATCHes of one field cannot both see a stale value).
    A request that changes nothing writes nothing (no event, `updatedAt` unchanged).
    """
    _check_writable(data)
    locked = (
        Contact.objects.select_for_update()
        .filter(pk=contact.pk, workspace_id=actor.workspace_id)
        .first()
    )
    if locked is None:  # deleted meanwhile, or not the actor's
        raise ContactNotFound
    changed = [field for field, value in data.items() if getattr(locked, field) != value]
    if not changed:
        return locked
    for field in changed:
        setattr(locked, field, data[field])
    locked.updated_at = timezone.now()
    locked.full_clean(exclude=_CLEAN_EXCLUDE, validate_unique=False)
    locked.save(update_fields=[*changed, "updated_at"])
    activity_record(
        actor=actor,
        action="contact.updated",
        target_type="contact",
        target_id=locked.id,
        changes=_api_names(changed),
    )
    return locked


@transaction.atomic
def contact_delete(*, contact: Contact, actor: Actor) -> None:
    """Delete `contact` and record `contact.deleted` (the event keeps its id)."""
    contact_id = contact.id
    deleted, _ = Contact.objects.filter(pk=contact_id, workspace_id=actor.workspace_id).delete()
    if not deleted:  # deleted meanwhile, or not the actor's
        raise ContactNotFound
    activity_record(
        actor=actor, action="contact.deleted", target_type="contact", target_id=contact_id
    )
