from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The floor under every app: shared helpers, their tables and commands; imports no app."""

    name = "parsalink.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"
