"""The analytics warehouse (DuckDB or BigQuery): where it is and how to use it.

- :mod:`oaken.warehouse.config`: ``OAKEN_WAREHOUSE`` → :class:`WarehouseConfig`;
- :mod:`oaken.warehouse.adapter`: the :class:`Warehouse` interface
  (:mod:`~oaken.warehouse.duckdb_adapter`, :mod:`~oaken.warehouse.bigquery_adapter`);
- :mod:`oaken.warehouse.bigquery`: every BigQuery client (google-cloud-bigquery, dlt,
  dbt) built from the settings.

The bottom layer of the analytics side: it imports nothing from the packages that use
it (analytics, el, orchestration, forecast, dashboard), so they can all import it
without a cycle. The submodules are imported by name (nothing is re-exported here) so
that reading the configuration does not load a client library.
"""
