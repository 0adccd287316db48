from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Helpers every app shares (rate limiting first); owns their tables and commands."""

    name = "parsalink.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"
