"""`manage.py seeddemo`: a demo workspace and user for the quick start; prints the credentials."""

import secrets

from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services import users

DEMO_EMAIL = "demo@parsalink.example"


class Command(BaseCommand):
    help = "Create (or reset the password of) the demo user, and print how to log in."

    def handle(self, *args, **options) -> None:
        password = "demo-" + secrets.token_urlsafe(12)
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            workspace = users.workspace_create(name="Demo workspace")
            user = users.user_create(
                email=DEMO_EMAIL,
                password=password,
                first_name="Demo",
                last_name="User",
                workspace=workspace,
            )
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        self.stdout.write(
            f"\nDemo workspace: {user.workspace_id}"
            f"\nDemo login:     {DEMO_EMAIL}"
            f"\nDemo password:  {password}\n"
        )
