"""Test data builders that go through the services, as the API does."""

from itertools import count

from accounts.models import User, Workspace
from accounts.services import users

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
