"""CPU and wall time of one password hash: ParsaLink's Argon2id parameters vs Django's defaults.

    python bench/argon2_cost.py [--n 10]      # prints one JSON line (the bench calls it)

CPU time is the process's (every thread's) time, so Django's parallelism=8 lanes are all counted.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parsalink.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django

django.setup()

from django.contrib.auth.hashers import Argon2PasswordHasher  # noqa: E402

from accounts.hashers import ParsaLinkArgon2Hasher  # noqa: E402


def cost(hasher, n: int) -> dict:
    encoded = hasher.encode("correct horse battery staple", hasher.salt())
    hasher.verify("correct horse battery staple", encoded)  # warm up
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        hasher.verify("correct horse battery staple", encoded)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "params": f"{hasher.memory_cost // 1024} MiB, t={hasher.time_cost}, p={hasher.parallelism}",
        "cpu_ms": round(cpu / n * 1000, 1),
        "wall_ms": round(wall / n * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    n = parser.parse_args().n
    print(
        json.dumps(
            {
                "parsalink": cost(ParsaLinkArgon2Hasher(), n),
                "django_default": cost(Argon2PasswordHasher(), n),
            }
        )
    )


if __name__ == "__main__":
    main()
