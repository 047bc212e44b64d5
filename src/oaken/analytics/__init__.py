"""The analytics half: extract/load, dbt, forecasts, orchestration, retention."""
