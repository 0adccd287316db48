"""`manage.py createuser --email E --password P --first-name F --last-name L --workspace W`."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User, Workspace, normalize_email
from accounts.services import users
from parsalink.core.ids import is_valid_id


class Command(BaseCommand):
    help = "Create a person in a workspace (an existing ws_… id, or the name of a new workspace)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--first-name", required=True)
        parser.add_argument("--last-name", required=True)
        parser.add_argument("--workspace", required=True)

    def handle(self, *args, **options) -> None:
        email = normalize_email(options["email"])
        if User.objects.filter(email=email).exists():
            raise CommandError(f"a user with email {email} already exists")
        workspace_ref = options["workspace"].strip()
        if not workspace_ref:
            raise CommandError("--workspace must be a workspace id (ws_…) or a new workspace name")
        if workspace_ref.startswith("ws_"):
            workspace = Workspace.objects.filter(pk=workspace_ref).first()
            if workspace is None or not is_valid_id(workspace_ref, "ws"):
                raise CommandError(f"no workspace with id {workspace_ref}")
            user = self._create(options, email, workspace)
        else:
            from django.db import transaction

            with transaction.atomic():
                workspace = users.workspace_create(name=workspace_ref[:200])
                user = self._create(options, email, workspace)
        self.stdout.write(json.dumps({"id": user.pk, "workspaceId": workspace.pk}))

    def _create(self, options, email, workspace) -> User:
        try:
            return users.user_create(
                email=email,
                password=options["password"],
                first_name=options["first_name"],
                last_name=options["last_name"],
                workspace=workspace,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
