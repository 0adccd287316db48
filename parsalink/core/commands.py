"""What the purge commands share: the same arguments, validated the same way, in one line."""

import sys

from django.core.management.base import BaseCommand, CommandError

MAX_BATCH_SIZE = 100_000
MAX_PAUSE_SECONDS = 60


def positive_int(raw: object, name: str, *, maximum: int | None = None) -> int:
    text = str(raw).strip()
    if not text.isdigit() or int(text) < 1 or (maximum is not None and int(text) > maximum):
        limit = f" up to {maximum}" if maximum is not None else ""
        raise CommandError(f"{name} must be a positive integer{limit}, got {raw!r}")
    return int(text)


def pause_seconds(raw: object) -> float:
    try:
        pause = float(str(raw))
    except ValueError:
        raise CommandError(f"--pause must be a number of seconds, got {raw!r}") from None
    if not 0 <= pause <= MAX_PAUSE_SECONDS:
        raise CommandError(f"--pause must be between 0 and {MAX_PAUSE_SECONDS} seconds")
    return pause


class PurgeCommand(BaseCommand):
    """A scheduled clean-up: `--batch-size` rows per statement, `--pause` seconds between.

    Subclasses implement `purge(batch_size=, pause=, **options)`. Bad arguments are one line on
    stderr and a non-zero exit (argparse would print its usage too).
    """

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        argparse_error = parser.error

        def one_line_error(message: str):
            if parser.called_from_command_line:
                self.stderr.write(f"CommandError: {message}")
                sys.exit(2)
            argparse_error(message)

        parser.error = one_line_error
        return parser

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", default="5000", help="rows per delete statement")
        parser.add_argument("--pause", default="0", help="seconds to sleep between batches")

    def handle(self, *args, **options) -> None:
        batch_size = positive_int(options.pop("batch_size"), "--batch-size", maximum=MAX_BATCH_SIZE)
        pause = pause_seconds(options.pop("pause"))
        self.purge(batch_size=batch_size, pause=pause, **options)

    def purge(self, *, batch_size: int, pause: float, **options) -> None:
        raise NotImplementedError
