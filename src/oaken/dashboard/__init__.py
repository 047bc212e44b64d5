"""The sales report (``oaken dashboard``): a thin Streamlit shell (:mod:`.app`) over
tested query functions (:mod:`.queries`) that read the warehouse marts."""
