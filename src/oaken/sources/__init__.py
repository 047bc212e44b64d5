"""Sale sources: the deterministic synthetic generator and readers for Iowa-format files."""
