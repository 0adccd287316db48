"""Kept for the applied migrations, which name `parsalink.ids.PrefixedId` (parsalink/core/ids.py).

An applied migration is never edited, and Django imports every migration, so this alias stays.
"""

from parsalink.core.ids import PrefixedId

__all__ = ["PrefixedId"]
