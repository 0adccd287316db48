"""parsalink.wsgi with a host-wide password-hash gate (flock slots shared by all workers)."""

import fcntl
import os
import threading
import time

from accounts import services
from parsalink.wsgi import application  # noqa: F401


class HostHashSlots:
    """At most `slots` password hashes at once on this host, whichever worker runs them.

    Each slot is an flock on a file: the kernel frees it if the worker dies mid-hash."""

    def __init__(self, slots: int, directory: str) -> None:
        os.makedirs(directory, exist_ok=True)
        self.paths = [os.path.join(directory, f"slot{i}") for i in range(slots)]
        self.local = threading.local()

    def acquire(self, timeout: float = 0.0) -> bool:
        deadline = time.monotonic() + float(os.environ.get("EXP_GATE_WAIT", timeout))
        while True:
            for path in self.paths:
                fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                self.local.fd = fd
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.002)

    def release(self) -> None:
        fd = self.local.fd
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


services._hash_slots = HostHashSlots(
    int(os.environ.get("EXP_HASH_SLOTS", "1")), "/tmp/parsalink-bench-hash-slots"
)
