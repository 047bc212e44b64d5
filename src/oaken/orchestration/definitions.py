"""The Dagster code location: ``dagster dev -m oaken.orchestration.definitions``.

Everything is built per domain (``el.py``, ``dbt.py``, ``forecast.py``) and merged in
``build.py``; loading this module runs ``dbt parse`` once.
"""

from oaken.orchestration.build import build_definitions
from oaken.settings import get_settings

defs = build_definitions(get_settings())
