"""Oaken Spirits data platform."""
