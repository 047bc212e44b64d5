"""Extract/load assets: one Dagster asset per raw table.

By default the plain dlt pipeline of :mod:`oaken.el.pipeline`, wired in with
``dagster-dlt``. When ``OAKEN_AIRBYTE_URL`` is set, the same asset keys are produced
by an Airbyte connection sync through ``dagster-airbyte`` instead (see
:mod:`oaken.orchestration.airbyte`).

Asset keys are ``raw/<table>``, which is also how ``dagster-dbt`` names the dbt
sources of ``transform/models/staging/__sources.yml``, so the lineage joins up.
"""



import dagster as dg
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from oaken.el.pipeline import make_pipeline, make_source, source_for_run
from oaken.el.snapshot import Snapshot
from oaken.settings import Settings

EL_OP = "oaken_el"
GROUP = "raw"


class ElConfig(dg.Config):
    full_refresh: bool = False
    """Drop the raw tables and dlt state and load everything again."""


class OakenDltTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        name = data.resource.name
        return spec.replace_attributes(
            key=dg.AssetKey([GROUP, name]),
            deps=[dg.AssetKey(["oaken_db", name])],
            group_name=GROUP,
            description=f"`{name}` of the source-of-truth database, loaded incrementally "
            "by dlt as of one snapshot of the database (cursor updated_at less a lag, "
            "merged on the primary key).",
        )


def raw_asset_keys() -> list[dg.AssetKey]:
    from oaken.el.pipeline import TABLE_NAMES

    return [dg.AssetKey([GROUP, name]) for name in TABLE_NAMES]


def build_el_definitions(settings: Settings) -> dg.Definitions:
    if settings.airbyte_url:
        from oaken.orchestration.airbyte import build_airbyte_definitions

        return build_airbyte_definitions(settings)

    pipeline = make_pipeline(settings)

    @dlt_assets(
        dlt_source=make_source(settings),
        dlt_pipeline=pipeline,
        name=EL_OP,
        dagster_dlt_translator=OakenDltTranslator(),
    )
    def raw_tables(context: dg.AssetExecutionContext, dlt: DagsterDltResource, config: ElConfig):
        refresh = "drop_sources" if config.full_refresh else None
        # a fresh source per run: first loads append (see source_for_run)
        # every table as of one moment (oaken.el.snapshot)
        with Snapshot(settings.database_url) as snapshot:
            source = source_for_run(settings, snapshot, full_refresh=config.full_refresh,
                                    pipeline=pipeline)
            yield from dlt.run(context=context, dlt_source=source, refresh=refresh)

    return dg.Definitions(assets=[raw_tables], resources={"dlt": DagsterDltResource()})
