"""Dagster orchestration of the analytics half (see ``definitions.py``)."""
