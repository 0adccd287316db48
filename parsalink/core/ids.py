"""Prefixed ULID identifiers (`usr_01HX…`): sortable by creation time, safe to show, one helper."""

from django.utils.deconstruct import deconstructible
from ulid import ULID

PREFIXES = {"usr", "ws", "ct", "key", "evt", "use", "ses"}
ID_MAX_LENGTH = 32


def new_id(prefix: str) -> str:
    return f"{prefix}_{ULID()}"


@deconstructible
class PrefixedId:
    """A model-field default yielding a new prefixed id (serialisable in migrations)."""

    def __init__(self, prefix: str) -> None:
        if prefix not in PREFIXES:
            raise ValueError(f"unknown id prefix {prefix!r}")
        self.prefix = prefix

    def __call__(self) -> str:
        return new_id(self.prefix)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrefixedId) and other.prefix == self.prefix

    def __hash__(self) -> int:
        return hash(self.prefix)


def is_valid_id(value: object, prefix: str) -> bool:
    """True for a well-formed `<prefix>_<ULID>` string; cheap, used before touching the database."""
    if not isinstance(value, str) or not value.startswith(prefix + "_"):
        return False
    try:
        ULID.from_str(value[len(prefix) + 1 :])
    except ValueError:
        return False
    return True
