"""`manage.py createapikey --workspace ws_… --name NAME`: prints the new key as the last line."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Workspace
from activity.actor import Actor
from apikeys import services
from parsalink.core.ids import is_valid_id


class Command(BaseCommand):
    help = "Create an API key in a workspace; the key is printed once and never shown again."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--workspace", required=True, help="the workspace id (ws_…)")
        parser.add_argument("--name", required=True, help="what the key is for (1-100 chars)")

    def handle(self, *args, **options) -> None:
        workspace_id = options["workspace"].strip()
        name = options["name"].strip()
        if (
            not is_valid_id(workspace_id, "ws")
            or not Workspace.objects.filter(pk=workspace_id).exists()
        ):
            raise CommandError(f"no workspace with id {workspace_id!r}")
        if not 1 <= len(name) <= 100:
            raise CommandError("--name must be 1 to 100 characters")
        created = services.api_key_create(actor=Actor.system(workspace_id=workspace_id), name=name)
        self.stdout.write(f"Created {created.api_key.id} in {workspace_id}; store the key now:")
        self.stdout.write(created.plain)
