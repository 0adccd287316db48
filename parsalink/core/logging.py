"""One JSON object per log line on stdout, with the request id of the request being served."""

import contextvars
import json
import logging
import logging.config
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        request_id = request_id_var.get()
        if request_id:
            entry["requestId"] = request_id
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def json_stdout_config(level: str, loggers: dict[str, dict]) -> dict:
    """A logging dict config: each record one JSON line on stdout (Django and gunicorn alike)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "parsalink.core.logging.JsonFormatter"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": loggers,
    }


def configure(config: dict) -> None:
    """settings.LOGGING_CONFIG: the dict config, plus Python warnings as log records, so that
    even a library's warning is a JSON line rather than free text on stderr."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)
