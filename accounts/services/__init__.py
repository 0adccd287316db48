"""Writes for accounts, one module per job; callers import the submodule they need."""
