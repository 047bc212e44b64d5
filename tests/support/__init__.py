"""Test support that is not a test: helpers and pytest plugins shared by the suites
(and by the chaos benchmark)."""
