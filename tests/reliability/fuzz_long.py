"""`make fuzz-long`: the CI fuzzing with many more examples and fresh randomness each run.

    python -m tests.reliability.fuzz_long [--examples 200] [--workers 2]

Creates a throwaway database on DATABASE_URL's server, serves it with gunicorn, fuzzes every
operation as a JWT and as an API key, prints totals and every finding, and exits non-zero on a
blocking one (5xx, schema violation, invalid input accepted, leaked internals).
"""

from __future__ import annotations

import argparse
import sys

from tests.reliability.fuzzing import Fuzzer, prepare_profiles
from tests.reliability.harness import (
    OPEN_THROTTLES,
    create_person,
    live_server,
    standalone_database,
)

PASSWORD = "correct horse battery staple"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="per operation/mode/profile")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    with standalone_database("fuzz") as url:
        workspace = create_person(url, "owner@fuzz.example", PASSWORD, "Fuzz")["workspaceId"]
        create_person(url, "victim@fuzz.example", PASSWORD, workspace)
        with live_server(workers=args.workers, env=OPEN_THROTTLES, database_url=url) as server:
            profiles, real_ids = prepare_profiles(
                server.url,
                owner_email="owner@fuzz.example",
                victim_email="victim@fuzz.example",
                password=PASSWORD,
            )
            report = Fuzzer(
                server.url, profiles=profiles, real_ids=real_ids, max_examples=args.examples
            ).run()
            errors = list(server.error_lines)
    print(report.details())
    for line in errors[:10]:
        print(f"server error log: {line[:600]}")
    print(report.summary())
    print(f"server ERROR log lines: {len(errors)}")
    return 1 if report.blocking or report.server_errors or errors else 0


if __name__ == "__main__":
    sys.exit(main())
