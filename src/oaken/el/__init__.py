"""Extract/load from the source-of-truth database into the warehouse (dlt)."""
