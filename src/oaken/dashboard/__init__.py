"""The sales report (``oaken dashboard``): a thin Streamlit shell (:mod:`.app`) over
tested query functions that read the warehouse marts through
:class:`oaken.warehouse.adapter.Warehouse`, one module per part of the page:
:mod:`.filters` (the filters and their where clause), :mod:`.sales`, :mod:`.shipping`,
:mod:`.finance` (receivables, ledger check), :mod:`.export` (the CSV download) and
:mod:`.live` (the pipeline's status from the database and the broker)."""
