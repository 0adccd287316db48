"""The authenticated caller as the API sees it: a few columns, not a full model instance."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a person (JWT) or a workspace's system user acting through an API key.

    Authentication builds it from one lean query instead of a User instance (see
    docs/performance.md); views that need the full user load it through a selector.
    """

    id: str
    email: str
    first_name: str
    last_name: str
    workspace_id: str
    is_system: bool = False
    is_staff: bool = False
    api_key_id: str | None = None

    is_authenticated = True
    is_anonymous = False

    @property
    def pk(self) -> str:
        return self.id

    @property
    def is_person(self) -> bool:
        return not self.is_system and self.api_key_id is None
