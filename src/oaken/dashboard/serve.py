"""The Streamlit server of ``oaken dashboard``, warmed before its first visitor.

``streamlit run`` imports the report's libraries (pandas, Plotly, DuckDB) only when the
first browser connects, and the warehouse file is then read cold from disk: together
that made the first visit after a start noticeably slower than every later one
(BENCHMARKS.md). This module is what ``oaken dashboard`` execs instead. It imports
those libraries in the server process, starts a thread that runs the first page's
queries once on a private read-only connection (which pulls the marts into the
operating system's page cache, then closes), and hands over to Streamlit's own command
line with the arguments it was given::

    python -m oaken.dashboard.serve run app.py --server.port 8501 …
"""

from __future__ import annotations

import logging
import sys
import threading

log = logging.getLogger("oaken.dashboard")


def preload() -> None:
    """Import what the report's script imports, so its first run does not."""
    import duckdb  # noqa: F401
    import pandas  # noqa: F401
    import plotly.graph_objects
    import plotly.subplots  # noqa: F401

    from oaken.dashboard import (  # noqa: F401
        export,
        filters,
        finance,
        formatting,
        live,
        sales,
        shipping,
    )


def warm_warehouse() -> None:
    """Run the first page's queries once and close: a warm page cache, no lock kept.

    Best effort: a missing, empty or busy warehouse is the page's to explain.
    """
    from oaken.dashboard.filters import filter_options, load_meta, use_store_daily
    from oaken.dashboard.sales import daily_sales, monthly, scorecards
    from oaken.errors import OakenError
    from oaken.settings import get_settings
    from oaken.warehouse.adapter import open_warehouse

    try:
        warehouse = open_warehouse(get_settings().warehouse)
        if warehouse.kind != "duckdb":
            return  # nothing local to warm
        with warehouse.session():
            meta = load_meta(warehouse)
            if meta.empty:
                return
            filter_options(warehouse)
            f = meta.default_filters()
            store_daily = use_store_daily(f, meta)
            for period in (f, f.previous()):
                scorecards(warehouse, period, store_daily=store_daily)
            monthly(warehouse, f, store_daily=store_daily)
            daily_sales(warehouse, f, store_daily=store_daily)
    except (OakenError, OSError) as problem:
        log.debug("warehouse not warmed: %s", problem)


def main() -> None:
    preload()
    threading.Thread(target=warm_warehouse, name="warm-warehouse", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main(prog_name="streamlit"))


if __name__ == "__main__":
    main()
