"""Reliability and security evidence: fuzzing, attacks, concurrency, faults, soak (README)."""
