"""A host-wide bound on concurrent password hashes: logins cannot starve the API.

Why host-wide: gunicorn's sync workers run one request per process, so a per-process semaphore
never trips; eight clients hammering login simply took every worker's CPU with Argon2 and the
list's p99 went up 5-8x (README "Performance"). The bound that matters is the CPU of the host,
shared by all workers, so the gate is shared by all workers too.

How: `LOGIN_HASH_CONCURRENCY` slot files in `LOGIN_HASH_SLOT_DIR`. A hash holds one slot by an
exclusive `flock` on its file; acquiring tries each slot without blocking and gives up at once
when all are taken, and the caller answers 429 (login) or 503 (password change) with
Retry-After instead of queueing behind the CPU. No waiting on purpose: with a 50 ms wait (longer
than one ~25 ms hash) every login got its turn while holding its worker, none was refused, and
the list's p99 went up ~10x under 8 login clients; refusing at once brought it to ~2x
(README "Performance").

Why a CPU share too: with one slot and two sync workers, refusing at once still left one worker
hashing nearly all the time under a login flood (the API's p99 went up 3.5-3.9x). So a slot also
records, in its file, when it may open again: `LOGIN_HASH_CPU_SHARE` 0.5 keeps it closed after a
hash for as long as the hash took, i.e. at most half a core per slot goes to hashing.

Why flock: the kernel releases the lock when the file is closed, including when a worker is
killed mid-hash (OOM, `kill -9`, gunicorn's timeout), so a slot can never leak. A flock belongs
to the open file description, so every process opens its own (lazily, in the worker, keyed by
its pid): a forked child never uses the parent's descriptors, whose locks would count as its own.
Threads of one process (gthread workers) share the process's descriptors, so a process lock
picks a slot that no thread of this process holds before flocking it.

The directory is created 0700 and must belong to this user and not be writable by others: anyone
able to open a slot file could hold the lock and refuse every login. The default is per user and
per database (<tmp>/parsalink-hash-slots-<uid>-<database>): deployments or test runs sharing a
host do not refuse each other's logins. Set LOGIN_HASH_SLOT_DIR to share one gate between them.
"""

import fcntl
import os
import re
import stat
import struct
import tempfile
import threading
import time

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

WAIT_SECONDS = 0.0
POLL_SECONDS = 0.002


def slot_dir() -> str:
    if settings.LOGIN_HASH_SLOT_DIR:
        return settings.LOGIN_HASH_SLOT_DIR
    database = re.sub(r"[^A-Za-z0-9_.-]", "_", str(settings.DATABASES["default"]["NAME"]))
    return os.path.join(tempfile.gettempdir(), f"parsalink-hash-slots-{os.getuid()}-{database}")


def slot_paths(directory: str, slots: int) -> list[str]:
    return [os.path.join(directory, f"slot{index}") for index in range(slots)]


class _ProcessSlots:
    """This process's descriptors on the slot files, and which of them its threads hold."""

    def __init__(self, directory: str, slots: int) -> None:
        self.pid = os.getpid()
        self.directory = directory
        self.paths = slot_paths(directory, slots)
        self.fds: list[int | None] = [None] * slots
        self.held = [False] * slots
        self.started = [0.0] * slots
        self.lock = threading.Lock()

    def try_acquire(self) -> int | None:
        with self.lock:
            for index, held in enumerate(self.held):
                if held:
                    continue
                fd = self._fd(index)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                now = time.time()
                if now < _read_reopen_at(fd):  # resting after its last hash
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    continue
                self.held[index], self.started[index] = True, now
                return index
        return None

    def release(self, index: int) -> None:
        with self.lock:
            fd = self.fds[index]
            share = settings.LOGIN_HASH_CPU_SHARE
            if share < 1:
                now = time.time()
                rest = (now - self.started[index]) * (1 / share - 1)
                os.pwrite(fd, _REOPEN_AT.pack(now + rest), 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            self.held[index] = False

    def close(self) -> None:
        """Drop descriptors without unlocking: after a fork they are the parent's locks."""
        for fd in self.fds:
            if fd is not None:
                os.close(fd)
        self.fds = [None] * len(self.fds)

    def _fd(self, index: int) -> int:
        fd = self.fds[index]
        if fd is None:
            if index == 0:
                _prepare_dir(self.directory)
            flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = self.fds[index] = os.open(self.paths[index], flags, 0o600)
        return fd


_REOPEN_AT = struct.Struct("<d")  # a slot file holds the Unix time it may be taken again


def _read_reopen_at(fd: int) -> float:
    data = os.pread(fd, _REOPEN_AT.size, 0)
    return _REOPEN_AT.unpack(data)[0] if len(data) == _REOPEN_AT.size else 0.0


def _prepare_dir(directory: str) -> None:
    os.makedirs(directory, mode=0o700, exist_ok=True)
    info = os.lstat(directory)
    if (
        not stat.S_ISDIR(info.st_mode)
        or info.st_uid != os.getuid()
        or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    ):
        raise ImproperlyConfigured(
            f"LOGIN_HASH_SLOT_DIR {directory} must be a directory owned by this user and not "
            "writable by others (anyone able to lock a slot could refuse every login)."
        )


_state_lock = threading.Lock()
_state: _ProcessSlots | None = None


def _after_fork_in_child() -> None:
    """A thread of the parent may have held the lock at fork time; the child starts afresh."""
    global _state_lock
    _state_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _process_slots() -> _ProcessSlots:
    global _state
    directory, slots = slot_dir(), settings.LOGIN_HASH_CONCURRENCY
    with _state_lock:
        state = _state
        if state is not None and state.pid != os.getpid():
            state.close()  # inherited from the parent: its locks, not ours
            state = None
        if state is not None and (state.directory, len(state.paths)) != (directory, slots):
            if any(state.held):  # settings changed (tests) while a hash runs: keep it
                return state
            state.close()
            state = None
        if state is None:
            state = _state = _ProcessSlots(directory, slots)
        return state


class Slot:
    """One held slot; release it exactly once (use as a context manager)."""

    def __init__(self, owner: _ProcessSlots, index: int) -> None:
        self._owner, self.index = owner, index

    def release(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None and owner.pid == os.getpid():
            owner.release(self.index)

    def __enter__(self) -> "Slot":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def acquire(wait: float = WAIT_SECONDS) -> Slot | None:
    """A free slot on this host, polling for up to `wait` seconds; None if all stay busy."""
    owner = _process_slots()
    deadline = time.monotonic() + wait
    while True:
        index = owner.try_acquire()
        if index is not None:
            return Slot(owner, index)
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_SECONDS)
