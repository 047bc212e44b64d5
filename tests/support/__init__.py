"""Helpers shared by the tests (and the chaos benchmark)."""
