"""Probes for load balancers and compose: liveness without the database, readiness with it.

Both answer over plain HTTP and for any Host header (parsalink.core.middleware.HealthCheckMiddleware
serves them before the HTTPS refusal and host validation): they are meant for the internal
network, and reveal only "alive" / "ready".
"""

import functools

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.http import JsonResponse

from parsalink.core.errors import error_response


def healthz(request) -> JsonResponse:
    """The process is alive and serving; touches nothing else."""
    return JsonResponse({"status": "ok"})


@functools.cache
def expected_migrations() -> tuple[tuple[tuple[str, str], tuple[tuple[str, str], ...]], ...]:
    """Every migration this code base ships, with what a squash replaces (read once)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return tuple((key, tuple(loader.graph.nodes[key].replaces or ())) for key in loader.graph.nodes)


def _pending(applied: set[tuple[str, str]]) -> bool:
    # A squashed migration counts as applied when everything it replaces is (Django records
    # the replaced names, not the squash's, when it applies a squash).
    return any(
        key not in applied and not (replaces and applied.issuperset(replaces))
        for key, replaces in expected_migrations()
    )


def readyz(request) -> JsonResponse:
    """The database answers and every migration is applied: one small query per probe."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        applied = set(MigrationRecorder(connection).applied_migrations())
    except Exception:  # any database failure means "not ready", never a 500
        return error_response(
            503, "The database is not reachable.", "database_unavailable", {"Retry-After": "1"}
        )
    if _pending(applied):
        return error_response(
            503, "Migrations are not applied yet.", "migrations_pending", {"Retry-After": "5"}
        )
    return JsonResponse({"status": "ready"})
