"""The Streamlit shell of the sales report: widgets, caching and charts only.

Every number comes from the query modules beside it (:mod:`.filters`, :mod:`.sales`,
:mod:`.shipping`, :mod:`.finance`, :mod:`.export`, :mod:`.live`); this file decides
what to ask for (the filters), caches the answers (``st.cache_data``, keyed by the
query function, the warehouse's version and the arguments, so a new ``oaken
analytics`` run shows up on the next interaction) and draws them with Plotly. Run it
with ``oaken dashboard``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from types import FunctionType
from typing import Any, Concatenate, ParamSpec, TypeVar

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from oaken.dashboard import export, finance, sales, senders, shipping
from oaken.dashboard.filters import (
    Filters,
    Meta,
    filter_options,
    load_meta,
    use_store_daily,
)
from oaken.dashboard.formatting import change, compact, exact, percent
from oaken.dashboard.live import LiveStatus, live_status
from oaken.errors import WarehouseBusy, WarehouseEmpty, WarehouseError, WarehouseMissing
from oaken.warehouse.adapter import RUN_ANALYTICS, Warehouse, open_warehouse
from oaken.warehouse.duckdb_adapter import DuckDBWarehouse

TITLE = "Oaken Spirits — Sales Report"
FILTER_KEYS = ("stores", "counties", "categories", "vendors", "items")
PLOTLY_CONFIG = {"displayModeBar": False}
FIRST_PAINT_PAUSE = 0.1  # seconds; see _let_the_scorecards_paint
BLUE, ORANGE, GREEN = "#1f77b4", "#ff7f0e", "#2ca02c"
log = logging.getLogger("oaken.dashboard")
P = ParamSpec("P")
T = TypeVar("T")


# --- caching --------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _warehouse(url: str) -> Warehouse:
    from oaken.settings import get_settings
    from oaken.warehouse.config import warehouse_config

    settings = get_settings()
    # the settings' warehouse carries the BigQuery endpoint, location and cost guard
    warehouse = open_warehouse(warehouse_config(settings) if settings.warehouse == url else url)
    if isinstance(warehouse, DuckDBWarehouse):
        warehouse.readers_copy = True  # the published copy: never wait for analytics
    return warehouse


def _query_name(query: FunctionType) -> str:
    """How a query function is hashed into the cache key. ``st.cache_data`` cannot hash
    a function argument by itself (it falls back to pickling, which refuses functions);
    its module and name identify it across reruns, as a name string did before."""
    return f"{query.__module__}.{query.__qualname__}"


@st.cache_data(show_spinner=False, max_entries=1024, hash_funcs={FunctionType: _query_name})
def _cached(query: Callable[..., Any], url: str, version: str, *args: Any,
            **kwargs: Any) -> Any:
    """``query(warehouse, *args, **kwargs)``, cached per warehouse version."""
    return query(_warehouse(url), *args, **kwargs)


@st.cache_data(show_spinner=False, ttl=15)
def _live_status(database_url: str, bootstrap: str) -> LiveStatus:
    from oaken.settings import get_settings

    return live_status(get_settings())


class Report:
    """One warehouse at one version: cached calls of the query functions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.version = _warehouse(url).version()

    def __call__(self, query: Callable[Concatenate[Warehouse, P], T], *args: P.args,
                 **kwargs: P.kwargs) -> T:
        """``query(warehouse, *args, **kwargs)`` from the cache when it was asked before
        at this version (the answer's type is the query's)."""
        return _cached(query, self.url, self.version, *args, **kwargs)

    def describe(self, meta: Meta) -> str:
        """"warehouse.duckdb, built 25 Nov 2026 03:51" (the path is in the page's help)."""
        name = self.url.rsplit("/", 1)[-1] if self.url.startswith("duckdb:") else self.url
        built = getattr(meta.built_at, "strftime", None)
        return f"{name}, built {built('%d %b %Y %H:%M')}" if built else name


# --- page -----------------------------------------------------------------------------


def main() -> None:
    st.set_page_config(page_title=TITLE, page_icon="🥃", layout="wide")
    st.title(TITLE)
    if not _may_see_the_report():
        return
    try:
        _page()
    except (WarehouseMissing, WarehouseEmpty) as problem:
        st.info(str(problem), icon="ℹ️")
    except WarehouseBusy as problem:
        st.warning(str(problem), icon="⏳")
    except WarehouseError as problem:
        st.warning(f"The warehouse cannot be read: {problem}", icon="⚠️")
    except Exception as problem:
        log.exception("the sales report failed")
        st.error(f"The report could not be drawn ({type(problem).__name__}: "
                 f"{str(problem).splitlines()[0] if str(problem) else ''}); "
                 "the details are in the dashboard's log.", icon="🚫")


def _may_see_the_report() -> bool:
    """With sign-in configured (OAKEN_DASHBOARD_OIDC_*): a signed-out visitor gets the
    sign-in button, a signed-in one outside the allowed addresses and domains a refusal;
    neither gets a number. Without sign-in, everyone on the served address may look."""
    from oaken.dashboard.signin import allowed
    from oaken.settings import get_settings

    settings = get_settings()
    if not settings.dashboard_sign_in:
        return True
    if not st.user.is_logged_in:
        st.info("Sign in to see the sales report.", icon="🔒")
        st.button("Sign in", on_click=st.login, type="primary")
        return False
    email = st.user.get("email")
    if not allowed(settings, email, st.user.get("email_verified")):
        log.warning("refused the report to %s: not an allowed address or domain",
                    email if isinstance(email, str) else "an account without an e-mail address")
        st.error(f"You are signed in as {email or 'an account without an e-mail address'}, "
                 "which may not see this report. Ask the platform's operators for access, "
                 "or sign out and use another account.", icon="🚫")
        st.button("Sign out", on_click=st.logout)
        return False
    with st.sidebar:
        st.caption(f"Signed in as {email}")
        st.button("Sign out", on_click=st.logout, key="sign_out")
    return True


def _page() -> None:
    from oaken.settings import get_settings

    settings = get_settings()
    every = settings.dashboard_refresh_seconds
    # the report redraws itself every OAKEN_DASHBOARD_REFRESH_SECONDS without a reload:
    # a fragment, so the filters (widgets outside it, in the sidebar) keep their values
    st.fragment(_report_body, run_every=every if every > 0 else None)(settings)
    try:
        with _warehouse(settings.warehouse).session():
            report = Report(settings.warehouse)
            meta = report(load_meta)
            if not meta.empty:
                default = meta.default_filters()
                _sidebar(report, meta, default, _filters_from_state(default))
    except WarehouseError:
        return  # no filters without a warehouse; the report's fragment already says why


def _report_body(settings: Any) -> None:
    """The report (scorecards, tabs); a failure is shown in its place, as :func:`main`
    does, since a fragment's reruns do not pass through ``main``."""
    try:
        with _warehouse(settings.warehouse).session():  # one connection per run, if any
            _report(settings)
    except (WarehouseMissing, WarehouseEmpty) as problem:
        st.info(str(problem), icon="ℹ️")
    except WarehouseBusy as problem:
        st.warning(str(problem), icon="⏳")
    except WarehouseError as problem:
        st.warning(f"The warehouse cannot be read: {problem}", icon="⚠️")


def _report(settings: Any) -> None:
    report = Report(settings.warehouse)
    meta = report(load_meta)
    if meta.empty:
        raise WarehouseEmpty(f"The warehouse has no sales yet: {RUN_ANALYTICS}.")
    default = meta.default_filters()
    # The filters come from the widgets' state (set before a rerun starts); the widgets
    # themselves are drawn last, so the scorecards reach the browser before thousands
    # of store and item choices do (that alone delayed the first paint noticeably).
    filters = _filters_from_state(default)
    previous = filters.previous()
    store_daily = use_store_daily(filters, meta)

    st.caption(
        f"{filters.start:%d %b %Y} – {filters.end:%d %b %Y} ({filters.days} days), compared "
        f"with the {filters.days} days before · data through {_data_through(meta)} · "
        f"{report.describe(meta)}")
    sales_tab, operations_tab = st.tabs(["Sales", "Operations"], key="tab",
                                        bind="query-params")
    with sales_tab:
        _scorecards(report, filters, previous, store_daily)
        _let_the_scorecards_paint()
        _activity_charts(report, filters, store_daily)
        _sales_chart(report, filters, meta, store_daily)
        _top_charts(report, filters)
        _shipping(report, filters, store_daily)
    if operations_tab.open:
        with operations_tab:
            _operations(report, filters, settings)


def _data_through(meta: Meta) -> str:
    """"14:03:27 UTC" (the newest sale's acceptance time; its date too when not today),
    or the last sale date of a warehouse built before the time was kept."""
    through = meta.data_through
    if through is None or not hasattr(through, "strftime"):
        return f"{meta.last_sale_date:%d %b %Y}"
    if getattr(through, "tzinfo", None) is not None:
        through = through.astimezone(UTC).replace(tzinfo=None)
    today = datetime.now(UTC).date()
    return f"{through:%H:%M:%S} UTC" if through.date() == today else \
        f"{through:%d %b %Y %H:%M:%S} UTC"


def _let_the_scorecards_paint() -> None:
    """On a session's first run only, give the browser a moment to paint the scorecards
    before the first chart arrives. The first Plotly element makes the page fetch and
    evaluate Plotly's bundle, which blocks painting for a while on a small machine;
    when the answers come from the cache, everything arrives at once and the scorecards
    wait for it (bench/dashboard.py measures the difference: BENCHMARKS.md)."""
    if not st.session_state.get("_charts_loaded"):
        st.session_state["_charts_loaded"] = True
        time.sleep(FIRST_PAINT_PAUSE)


# --- filters --------------------------------------------------------------------------


#: the session's default date range as the widget last showed it: while the widget
#: still holds it, the reader did not pick a range, and the range follows the data
DEFAULT_DATES = "_dates_default"


def _filters_from_state(default: Filters) -> Filters:
    state = st.session_state
    picked = state.get("dates")
    if picked is None or _kept_default(picked):
        # no range picked: the default one, which moves on with the newest sale (a live
        # report's last day is today's; the widget catches up on the next full run)
        picked = (default.start, default.end)
    start, end = _date_range(picked, default)
    return Filters(start=start, end=end, **{key: tuple(state.get(key) or ())
                                             for key in FILTER_KEYS})


def _sidebar(report: Report, meta: Meta, default: Filters, filters: Filters) -> None:
    """The filter widgets (their values are already in ``filters``) and the download."""
    options = report(filter_options)
    assert meta.first_sale_date is not None and meta.last_sale_date is not None
    state = st.session_state
    if "dates" not in state or _kept_default(state["dates"]):
        # set before the widget is drawn (Streamlit allows it then): the default range
        # of the newest data, until the reader picks another
        state["dates"] = state[DEFAULT_DATES] = (default.start, default.end)
    with st.sidebar:
        st.header("Filters")
        st.date_input(
            "Date range", min_value=meta.first_sale_date,
            max_value=meta.last_sale_date, key="dates",
            help="Sale dates, inclusive. Scorecards compare with the same number of days "
                 "just before.")
        st.multiselect("Store", list(options.stores), key="stores",
                       format_func=lambda v: options.stores.get(v, str(v)),
                       placeholder="All stores")
        st.multiselect("County", options.counties, key="counties",
                       placeholder="All counties")
        st.multiselect("Category", list(options.categories), key="categories",
                       format_func=lambda v: options.categories.get(v, str(v)),
                       placeholder="All categories")
        st.multiselect("Vendor", list(options.vendors), key="vendors",
                       format_func=lambda v: options.vendors.get(v, str(v)),
                       placeholder="All vendors")
        st.multiselect("Item", list(options.items), key="items",
                       format_func=lambda v: options.items.get(v, str(v)),
                       placeholder="All items (best sellers first)")
        st.button("Clear filters", on_click=_clear_filters, use_container_width=True)
        st.divider()
        warehouse = _warehouse(report.url)
        st.download_button(
            "Download filtered rows (CSV)",
            data=lambda: export.filtered_rows_csv(warehouse, filters),
            file_name=f"oaken-sales-{filters.start}-{filters.end}.csv", mime="text/csv",
            on_click="ignore", icon="⬇️", use_container_width=True,
            help="One row per day × store × item for the filters above "
                 "(mart_sales_daily_detail), with names and exact money.")


def _kept_default(picked: Any) -> bool:
    """The date widget still holds the default range it was drawn with."""
    shown = st.session_state.get(DEFAULT_DATES)
    return shown is not None and isinstance(picked, (tuple, list)) and tuple(picked) == shown


def _date_range(picked: Any, default: Filters) -> tuple[date, date]:
    if isinstance(picked, (tuple, list)):
        if len(picked) == 2:
            return picked[0], picked[1]
        if len(picked) == 1:  # the second date is not picked yet
            return picked[0], picked[0]
        return default.start, default.end
    if isinstance(picked, date):
        return picked, picked
    return default.start, default.end


def _clear_filters() -> None:
    """Forget the widgets' values: the next run draws them with their defaults."""
    for key in ("dates", *FILTER_KEYS):
        if key in st.session_state:
            del st.session_state[key]


# --- sales tab ------------------------------------------------------------------------


def _scorecards(report: Report, f: Filters, previous: Filters, store_daily: bool) -> None:
    now = report(sales.scorecards, f, store_daily=store_daily)
    before = report(sales.scorecards, previous, store_daily=store_daily)
    cards = (
        ("Invoices", "invoices", False),
        ("Customers", "customers", False),
        ("Bottles sold", "bottles_sold", False),
        ("Sales", "sale_dollars", True),
        ("Gross margin", "gross_margin", True),
    )
    for column, (label, name, money) in zip(st.columns(len(cards)), cards, strict=True):
        value, old = getattr(now, name), getattr(before, name)
        extra = ""
        if name == "gross_margin" and now.gross_margin_pct is not None:
            extra = f" · {percent(now.gross_margin_pct)} of sales"
        elif name == "customers":
            extra = " · distinct stores that bought"
        column.metric(
            label, compact(value, money=money),
            delta=percent(change(value, old), signed=True),
            help=f"{exact(value, money=money)}{extra} (previous period "
                 f"{previous.start:%d %b %Y} – {previous.end:%d %b %Y}: "
                 f"{exact(old, money=money)})",
            border=True)


def _activity_charts(report: Report, f: Filters, store_daily: bool) -> None:
    frame = report(sales.monthly, f, store_daily=store_daily)
    left, right = st.columns(2)
    for column, name, title, color in (
        (left, "invoices", "Invoices per month", BLUE),
        (right, "bottles_sold", "Bottles sold per month", ORANGE),
    ):
        figure = go.Figure(go.Bar(
            x=frame["month_start_date"], y=frame[name], marker_color=color,
            hovertemplate="%{x|%b %Y}: %{y:,}<extra></extra>"))
        _layout(figure, title, yformat="~s")
        figure.update_xaxes(dtick="M1", tickformat="%b\n%Y")
        column.plotly_chart(figure, config=PLOTLY_CONFIG, key=f"monthly_{name}")
    st.caption("Monthly bars show at least the 12 months up to the end date.")


def _sales_chart(report: Report, f: Filters, meta: Meta, store_daily: bool) -> None:
    daily = report(sales.daily_sales, f, store_daily=store_daily)
    fc = report(sales.forecast, f)
    figure = go.Figure()
    figure.add_trace(go.Scatter(
        x=daily["sale_date"], y=daily["sale_dollars"], name="Sales", mode="lines",
        line={"color": BLUE, "width": 1.2},
        hovertemplate="%{x|%a %d %b %Y}: $%{y:,.2f}<extra></extra>"))
    if len(daily) >= 28:
        rolling = daily["sale_dollars"].rolling(7, min_periods=7).mean()
        figure.add_trace(go.Scatter(
            x=daily["sale_date"], y=rolling, name="7-day average", mode="lines",
            line={"color": "#0b3d91", "width": 2},
            hovertemplate="%{x|%d %b %Y}: $%{y:,.0f}<extra>7-day average</extra>"))
    show_forecast = fc is not None and meta.last_sale_date is not None \
        and f.end >= meta.last_sale_date
    if show_forecast:
        assert fc is not None
        band = fc.frame
        for level, alpha in (("95", 0.15), ("80", 0.3)):
            figure.add_trace(go.Scatter(
                x=band["forecast_date"], y=band[f"yhat_hi_{level}"], mode="lines",
                line={"width": 0}, showlegend=False, hoverinfo="skip"))
            figure.add_trace(go.Scatter(
                x=band["forecast_date"], y=band[f"yhat_lo_{level}"], mode="lines",
                line={"width": 0}, fill="tonexty", fillcolor=f"rgba(255,127,14,{alpha})",
                name=f"{level} % interval", hoverinfo="skip"))
        figure.add_trace(go.Scatter(
            x=band["forecast_date"], y=band["yhat"], name="Forecast (30 days)", mode="lines",
            line={"color": ORANGE, "dash": "dash", "width": 2},
            hovertemplate="%{x|%a %d %b %Y}: $%{y:,.0f}<extra>forecast</extra>"))
    _layout(figure, "Sales dollars per day, with the 30-day forecast", yformat="$~s",
            height=380)
    st.plotly_chart(figure, config=PLOTLY_CONFIG, key="sales_daily")
    if show_forecast:
        assert fc is not None
        st.caption(f"Forecast: {fc.series_name} ({fc.series_type}), shaded 80 % and 95 % "
                   "prediction intervals.")
    elif fc is not None:
        st.caption("The forecast starts after the last sale: extend the end date to "
                   f"{meta.last_sale_date:%d %b %Y} to see it.")
    else:
        st.caption("No forecast for this filter: forecasts exist for all sales and for each "
                   "top-10 category or item on its own.")


def _top_charts(report: Report, f: Filters) -> None:
    left, right = st.columns(2)
    categories = report(sales.top_categories, f)
    items = report(sales.top_items, f)
    for column, frame, name, title, color in (
        (left, categories, "category_name", "Top categories by sales", BLUE),
        (right, items, "item_label", "Top items by sales", GREEN),
    ):
        figure = go.Figure(go.Bar(
            x=frame["sale_dollars"], y=frame[name], orientation="h", marker_color=color,
            text=[percent(v) or "" for v in frame["share"]], textposition="auto",
            customdata=frame["bottles_sold"],
            hovertemplate="%{y}: $%{x:,.2f} (%{text} of sales), %{customdata:,} bottles"
                          "<extra></extra>"))
        _layout(figure, title, height=380)
        figure.update_yaxes(autorange="reversed", automargin=True)
        figure.update_xaxes(tickformat="$~s")
        column.plotly_chart(figure, config=PLOTLY_CONFIG, key=f"top_{name}")


def _shipping(report: Report, f: Filters, store_daily: bool) -> None:
    st.subheader("Shipping performance")
    summary = report(shipping.shipping_summary, f, store_daily=store_daily)
    monthly = report(shipping.shipping_monthly, f, store_daily=store_daily)
    spread = report(shipping.days_to_ship, f)
    a, b, c = st.columns(3)
    a.metric("Days from sale to ship (average)",
             "—" if summary.avg_days_to_ship is None else f"{summary.avg_days_to_ship:.2f}",
             border=True)
    b.metric("Shipping cost as a share of sales", percent(summary.shipping_cost_share) or "—",
             help=f"{exact(summary.shipping_cost, money=True)} freight on "
                  f"{exact(summary.shipped_sale_dollars, money=True)} of shipped sales",
             border=True)
    c.metric("Lines shipped", f"{compact(summary.shipped_lines)} of "
             f"{compact(summary.sale_lines)}", border=True)
    left, right = st.columns([3, 2])
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(go.Bar(
        x=monthly["month_start_date"], y=monthly["avg_days_to_ship"],
        name="Days to ship (avg)", marker_color=BLUE,
        hovertemplate="%{x|%b %Y}: %{y:.2f} days<extra></extra>"), secondary_y=False)
    figure.add_trace(go.Scatter(
        x=monthly["month_start_date"], y=monthly["shipping_cost_share"], mode="lines+markers",
        name="Shipping cost / sales", line={"color": ORANGE},
        hovertemplate="%{x|%b %Y}: %{y:.2%}<extra></extra>"), secondary_y=True)
    _layout(figure, "Per sale month")
    figure.update_yaxes(title_text="days", secondary_y=False, rangemode="tozero")
    figure.update_yaxes(title_text="share of sales", tickformat=".1%", secondary_y=True,
                        rangemode="tozero")
    left.plotly_chart(figure, config=PLOTLY_CONFIG, key="shipping_monthly")
    spread_figure = go.Figure(go.Bar(
        x=spread["days_to_ship"], y=spread["lines"], marker_color=GREEN,
        hovertemplate="%{x} days: %{y:,} lines<extra></extra>"))
    _layout(spread_figure, "Lines by days from sale to ship")
    spread_figure.update_xaxes(dtick=1, title_text="calendar days")
    right.plotly_chart(spread_figure, config=PLOTLY_CONFIG, key="shipping_spread")


# --- operations tab -------------------------------------------------------------------


def _operations(report: Report, f: Filters, settings: Any) -> None:
    st.subheader("Shipments scheduled per day")
    shipments = report(shipping.shipments_per_day, f)
    figure = go.Figure(go.Bar(
        x=shipments["ship_date"], y=shipments["shipments"], marker_color=BLUE,
        customdata=shipments["shipping_cost"],
        hovertemplate="%{x|%a %d %b %Y}: %{y:,} shipments, $%{customdata:,.2f} freight"
                      "<extra></extra>"))
    _layout(figure, "Shipments of the filtered sales, by scheduled ship date")
    st.plotly_chart(figure, config=PLOTLY_CONFIG, key="shipments_daily")

    _senders(report)

    st.subheader("Receivables by store")
    owed = report(finance.receivables, f)
    total = owed["balance"].sum() if len(owed) else 0.0
    as_of = owed["as_of_date"].max() if len(owed) else None
    a, b, c = st.columns(3)
    a.metric("Receivable balance", compact(total, money=True),
             help=exact(round(total, 2), money=True), border=True)
    b.metric("Over 90 days", compact(owed["balance_over_90_days"].sum(), money=True),
             border=True)
    c.metric("Stores with a balance", compact(int((owed["balance"] > 0).sum())), border=True)
    st.caption(f"As of {pd.Timestamp(as_of):%d %b %Y}" if as_of is not None else "No postings.")
    st.caption("Store and county filters apply; a balance has no sale date or product.")
    top = owed.head(15)
    figure = go.Figure(go.Bar(
        x=top["balance"], y=top["store_name"].fillna(top["store_id"].astype(str)),
        orientation="h", marker_color=ORANGE,
        hovertemplate="%{y}: $%{x:,.2f}<extra></extra>"))
    _layout(figure, "Largest balances", height=420)
    figure.update_yaxes(autorange="reversed", automargin=True)
    figure.update_xaxes(tickformat="$~s")
    st.plotly_chart(figure, config=PLOTLY_CONFIG, key="receivables")
    st.dataframe(owed, hide_index=True, height=260, column_config={
        name: st.column_config.NumberColumn(format="dollar")
        for name in ("billed", "collected", "balance", "balance_0_30_days",
                     "balance_31_60_days", "balance_61_90_days", "balance_over_90_days")})

    st.subheader("Ledger balance check")
    ledger = report(finance.ledger_check)
    a, b, c = st.columns(3)
    a.metric("Debits (warehouse)", compact(ledger.debits, money=True),
             help=exact(ledger.debits, money=True), border=True)
    b.metric("Credits (warehouse)", compact(ledger.credits, money=True),
             help=exact(ledger.credits, money=True), border=True)
    c.metric("Debits − credits", exact(ledger.imbalance, money=True), border=True)
    if ledger.balanced:
        st.success("The warehouse ledger balances: total debits equal total credits.",
                   icon="✅")
    else:
        st.warning(f"The warehouse ledger is out of balance by "
                   f"{exact(ledger.imbalance, money=True)}.", icon="⚠️")
    st.dataframe(ledger.accounts, hide_index=True, column_config={
        name: st.column_config.NumberColumn(format="dollar")
        for name in ("debits", "credits", "balance")})

    st.subheader("Live pipeline status")
    st.caption("From the operational database and the broker, as `oaken status` reports it "
               "(refreshed every 15 s).")
    live = _live_status(settings.database_url, settings.bootstrap_servers)
    for problem in live.problems:
        st.warning(problem, icon="⚠️")
    a, b, c, d = st.columns(4)
    a.metric("Ledger imbalance (database)",
             "—" if live.ledger_imbalance is None else exact(live.ledger_imbalance, money=True),
             border=True)
    b.metric("Receivables − sales (database)",
             "—" if live.receivable_gap is None else exact(live.receivable_gap, money=True),
             border=True)
    c.metric("Dead letters (open)", "—" if live.dlq is None else f"{live.dlq:,}",
             help="Rows of dead_letters not yet replayed or discarded (oaken dlq list)",
             border=True)
    d.metric("Consumer lag", "—" if live.lag is None else f"{sum(live.lag.values()):,}",
             help="Messages not yet committed, summed over the worker groups", border=True)
    left, right = st.columns(2)
    if live.lag:
        left.dataframe(pd.DataFrame(sorted(live.lag.items()), columns=["group", "lag"]),
                       hide_index=True)
    if live.counts:
        right.dataframe(pd.DataFrame(sorted(live.counts.items()), columns=["table", "rows"]),
                        hide_index=True)


def _senders(report: Report) -> None:
    st.subheader("Sales per sender per day")
    try:
        per_day = report(senders.sales_per_sender_day)
    except WarehouseMissing:
        st.info(f"This warehouse was built before senders were kept: {RUN_ANALYTICS}.")
        return
    figure = go.Figure([
        go.Bar(x=rows["recorded_date"], y=rows["sale_lines"], name=str(sender),
               customdata=rows["sale_dollars"],
               hovertemplate=f"{sender}<br>%{{x|%a %d %b %Y}}: %{{y:,}} lines, "
                             "$%{customdata:,.2f}<extra></extra>")
        for sender, rows in per_day.groupby("sent_by", sort=True)])
    _layout(figure, "Sale lines by sender (API key, replay:file, import:file), by the day "
            "they were recorded")
    figure.update_layout(barmode="stack")
    st.plotly_chart(figure, config=PLOTLY_CONFIG, key="senders_daily")
    st.caption("All sales, by the UTC day the database recorded them: the filters do not "
               "apply. `(not recorded)`: recorded before senders were kept.")


# --- helpers --------------------------------------------------------------------------


def _layout(figure: go.Figure, title: str, *, yformat: str | None = None,
            height: int = 320) -> None:
    figure.update_layout(
        title={"text": title, "font": {"size": 15}}, height=height,
        margin={"l": 10, "r": 10, "t": 45, "b": 10}, hovermode="closest",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 1, "xanchor": "right"},
        bargap=0.15)
    if yformat:
        figure.update_yaxes(tickformat=yformat)


if __name__ == "__main__":
    main()
