"""The one place that builds test data, through the services as the API does."""

from itertools import count

from accounts.models import User, Workspace
from accounts.services import users
from activity.actor import Actor
from apikeys import services as apikey_services
from contacts import services as contact_services
from contacts.models import Contact

PASSWORD = "correct horse battery staple"
_seq = count(1)


def make_workspace(name: str = "Workspace") -> Workspace:
    return users.workspace_create(name=name)


def make_user(
    workspace: Workspace, *, email: str | None = None, password: str = PASSWORD, **fields
) -> User:
    user = users.user_create(
        email=email or f"user{next(_seq)}@example.com",
        password=password,
        first_name=fields.pop("first_name", "Jane"),
        last_name=fields.pop("last_name", "Smith"),
        workspace=workspace,
    )
    if fields:
        User.objects.filter(pk=user.pk).update(**fields)
        user.refresh_from_db()
    return user


def key_for(user: User, *, name: str = "Zapier", expires_at=None) -> apikey_services.CreatedKey:
    """A new API key of `user`'s workspace, created by `user` (its `.plain` is the full key)."""
    actor = Actor.system(workspace_id=user.workspace_id, user_id=user.id)
    return apikey_services.api_key_create(actor=actor, name=name, expires_at=expires_at)


def make_contact(workspace: Workspace, *, created_by: User | None = None, **fields) -> Contact:
    """A contact of `workspace` (by `created_by`, else an operator), with its activity event."""
    fields.setdefault("first_name", "Ada")
    actor = Actor.system(workspace_id=workspace.id, user_id=getattr(created_by, "id", None))
    return contact_services.contact_create(actor=actor, data=fields)


def system_user_id(workspace_id: str) -> str:
    return User.objects.get(workspace_id=workspace_id, is_system=True).id
