"""Probes for load balancers and compose: liveness without the database, readiness with it."""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

from parsalink.errors import error_response


def healthz(request) -> JsonResponse:
    """The process is alive and serving; touches nothing else."""
    return JsonResponse({"status": "ok"})


def readyz(request) -> JsonResponse:
    """The database answers and every migration is applied."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:  # any database failure means "not ready", never a 500
        return error_response(503, "The database is not reachable.", "database_unavailable")
    if pending:
        return error_response(503, "Migrations are not applied yet.", "migrations_pending")
    return JsonResponse({"status": "ready"})
