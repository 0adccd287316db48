"""`python bench/run.py [options]`: the same as `python -m bench` (bench/__main__.py)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ itself is first on the path: the package is imported from the root.
sys.path[0] = str(ROOT)

from bench.__main__ import main  # noqa: E402

if __name__ == "__main__":
    main()
