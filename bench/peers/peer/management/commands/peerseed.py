"""`manage.py peerseed`: the peer's bench data, printed as one JSON line (bench only)."""

import json
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework_api_key.models import APIKey
from rest_framework_simplejwt.tokens import RefreshToken
from ulid import ULID

from peer.models import Contact

WORKSPACE = "ws_01JBENCHPEER00000000000000"
# As for ParsaLink (bench/seed.py REFRESH_USERS): refresh tokens of 32 users, interleaved.
REFRESH_USERS = 32


class Command(BaseCommand):
    help = "Reset the peer's data: a user, 10 contacts, an API key and a pool of refresh tokens."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--contacts", type=int, default=10)
        parser.add_argument("--refresh-tokens", type=int, default=0)
        parser.add_argument("--tokens-file", default="")
        parser.add_argument(
            "--mint-only", action="store_true", help="only write fresh refresh tokens"
        )

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        if options["mint_only"]:
            self._mint(options)
            return
        Contact.objects.all().delete()
        APIKey.objects.all().delete()
        User.objects.all().delete()  # cascades to simplejwt's outstanding/blacklisted tokens
        user = User.objects.create_user(username="bench", email="bench@peer.example")
        start = datetime(2025, 1, 1, tzinfo=UTC)
        Contact.objects.bulk_create(
            Contact(
                id=f"ct_{ULID.from_datetime(start + timedelta(seconds=i))}",
                workspace_id=WORKSPACE,
                first_name=f"First{i}",
                last_name=f"Last{i}",
                email=f"contact{i}@example.com",
                phone="+1 555 0100",
                company="Example Inc",
                notes="",
                created_at=start + timedelta(seconds=i),
                updated_at=start + timedelta(seconds=i),
            )
            for i in range(options["contacts"])
        )
        _, key = APIKey.objects.create_key(name="bench")
        User.objects.bulk_create(
            User(username=f"bench-session-{i}", email=f"bench-session-{i}@peer.example")
            for i in range(REFRESH_USERS)
        )
        self._mint(options)
        access = str(RefreshToken.for_user(user).access_token)
        self.stdout.write(json.dumps({"workspace": WORKSPACE, "access": access, "apiKey": key}))

    @staticmethod
    def _mint(options: dict) -> None:
        """Refresh tokens, one per line, round-robin over the session users (simplejwt records
        each as outstanding)."""
        if not options["tokens_file"]:
            return
        users = list(User.objects.filter(username__startswith="bench-session-").order_by("pk"))
        with open(options["tokens_file"], "w") as out:
            for i in range(options["refresh_tokens"]):
                out.write(f"{RefreshToken.for_user(users[i % len(users)])}\n")
