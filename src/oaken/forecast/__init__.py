"""Daily sales forecasts (statsforecast) written beside the marts."""

from oaken.forecast.daily import ForecastReport, run_forecasts

__all__ = ["ForecastReport", "run_forecasts"]
