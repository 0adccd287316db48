"""The benchmarks own logic: its plan, its goals table, its servers logs."""
