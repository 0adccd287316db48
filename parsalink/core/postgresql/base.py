"""Django's PostgreSQL backend with a health check that costs no round trip when nothing changed.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first query of every request: one
round trip per request, as much as the request's own query. A server that ends a connection
(restart, crash, `pg_terminate_backend`, an idle timeout) sends an error message and closes the
socket, and either makes the idle socket readable. So the kernel is asked first (`poll`, no
waiting): a connection whose socket has nothing to say is used as it is; a readable, hung-up or
broken one gets Django's own `SELECT 1`, and a failed one is replaced before the request uses it.
A connection cut without a word (a network partition) is caught by neither check sooner than by
the statement and TCP timeouts.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import ConnStatus

_EVENTS = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


def socket_is_quiet(connection) -> bool:
    """True when the idle connection is open and the server has sent nothing since."""
    if connection.closed or connection.pgconn.status != ConnStatus.OK:
        return False
    poller = select.poll()
    poller.register(connection.fileno(), _EVENTS)
    return not poller.poll(0)


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if (
            not self.pool  # a pool hands out only healthy connections (Django's own rule)
            and self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and socket_is_quiet(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
