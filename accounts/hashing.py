"""Every password hash of the process runs on a small pool of low-priority threads.

Why: Argon2 is the one CPU-heavy step of the API. Run in the request's thread, a login flood takes
every core at the same priority as the API's other requests and their latency climbs. Here each
hash is handed to `LOGIN_HASH_THREADS` dedicated threads (1 by default) that lower their own CPU
priority to `LOGIN_HASH_NICE` (Linux applies `setpriority` on a thread id to that thread only;
argon2-cffi releases the GIL while it hashes). The kernel's scheduler then gives the hashes every
idle cycle and the API's requests the CPU whenever they want it.

Waiting, not refusing: the caller waits up to `LOGIN_QUEUE_TIMEOUT` seconds for its hash to
*start*; a hash that started is always waited for to the end (it is short). If none started in
time the queued job is cancelled (it never hashes) and HashingBusy is raised: an AppError, so
login and password change answer 429 `login_busy` with Retry-After, and any other view (the
admin's login) the same through parsalink/core/middleware.py.

The bound is per process (each gunicorn worker has its own pool), so the host hashes at most
workers x LOGIN_HASH_THREADS passwords at once, all at low priority. Threads do not survive
fork(): the pool is created lazily and dropped in a forked child.
"""

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from django.conf import settings

from parsalink.core.errors import AppError

T = TypeVar("T")


class HashingBusy(AppError):
    """No hashing thread became free within LOGIN_QUEUE_TIMEOUT; retry shortly."""

    status_code = 429
    code = "login_busy"
    detail = "Too many logins in progress; retry shortly."
    default_headers = {"Retry-After": "1"}


_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_threads = 0
_local = threading.local()


def _lower_own_priority() -> None:
    """Runs once in each hashing thread: nice this thread only (never raise it, which needs
    privileges, if the process already runs nicer)."""
    _local.is_hashing_thread = True
    tid = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, max(current, settings.LOGIN_HASH_NICE))
    except (AttributeError, OSError):  # not Linux: same priority, the bound still holds
        pass


def _executor() -> ThreadPoolExecutor:
    global _pool, _pool_threads
    with _lock:
        if _pool is None or _pool_threads != settings.LOGIN_HASH_THREADS:
            if _pool is not None:
                _pool.shutdown(wait=False)  # settings changed (tests): queued work still runs
            _pool_threads = settings.LOGIN_HASH_THREADS
            _pool = ThreadPoolExecutor(
                max_workers=_pool_threads,
                thread_name_prefix="password-hash",
                initializer=_lower_own_priority,
            )
        return _pool


def _after_fork_in_child() -> None:
    """The parent's hashing threads do not exist in the child: start a pool of its own."""
    global _lock, _pool
    _lock, _pool = threading.Lock(), None


os.register_at_fork(after_in_child=_after_fork_in_child)


def run(function: Callable[..., T], *args, **kwargs) -> T:
    """`function(*args, **kwargs)` on a hashing thread; HashingBusy if it did not start in time."""
    if getattr(_local, "is_hashing_thread", False):
        return function(*args, **kwargs)
    started = threading.Event()

    def job() -> T:
        started.set()
        return function(*args, **kwargs)

    future: Future = _executor().submit(job)
    if not started.wait(settings.LOGIN_QUEUE_TIMEOUT) and future.cancel():
        raise HashingBusy
    return future.result()
