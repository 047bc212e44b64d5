"""dbt assets: every model and snapshot of ``transform/`` as a Dagster asset, every dbt
test as an asset check (``dagster-dbt``).

The manifest is prepared at load time with ``dbt parse`` into
``$OAKEN_HOME/dbt/target`` (never inside the repository); each run's artifacts go to
a fresh folder under it, and the latest ``run_results.json`` is copied to
``$OAKEN_HOME/dbt/last_run_results.json`` for the runner's report.
"""


import json
import shutil
import subprocess
import uuid
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from oaken.errors import TransformError
from oaken.orchestration.resources import (
    dbt_arguments,
    dbt_environment,
    dbt_executable,
    dbt_home,
    find_dbt_project,
    prepare_dbt_home,
)
from oaken.settings import Settings

DBT_OP = "oaken_dbt"
KEEP_RUNS = 5


class DbtConfig(dg.Config):
    full_refresh: bool = False
    """Rebuild incremental models (fct_sales) from scratch."""


class OakenDbtTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props.get("resource_type") == "snapshot":
            return "snapshots"
        folders = dbt_resource_props.get("fqn", [])[1:-1]
        return folders[0] if folders else "dbt"


def make_dbt_project(settings: Settings) -> DbtProject:
    config = prepare_dbt_home(settings)
    project_dir = find_dbt_project(settings.dbt_project_dir)
    return DbtProject(
        project_dir=project_dir,
        profiles_dir=project_dir,
        target_path=dbt_home(settings) / "target",
        target=config.dbt_target,
    )


def prepare(project: DbtProject, settings: Settings) -> Path:
    """``dbt parse`` → manifest.json (partial parsing keeps repeats to a few seconds)."""
    command = [dbt_executable(), "parse", "--quiet", "--target", str(project.target),
               "--target-path", str(project.target_path), *dbt_arguments(settings)]
    done = subprocess.run(command, cwd=project.project_dir, env=dbt_environment(settings),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0 or not project.manifest_path.exists():
        lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        detail = " ".join(lines[-3:])[:300]
        raise TransformError(f"dbt parse failed for {project.project_dir}: {detail}")
    return project.manifest_path


def summarise(run_results: dict) -> dict[str, int]:
    """``{status: count}`` over the nodes of a run_results.json."""
    return dict(Counter(result.get("status", "unknown") for result in run_results["results"]))


def failures(run_results: dict) -> list[str]:
    bad = []
    for result in run_results["results"]:
        if result.get("status") in ("error", "fail", "runtime error"):
            name = result.get("unique_id", "?").split(".")
            bad.append(f"{name[0]} {name[-1] if name[0] != 'test' else name[2]} "
                       f"({result['status']})")
    return bad


def _keep_recent_runs(target: Path) -> None:
    runs = sorted((p for p in target.iterdir() if p.is_dir() and p.name not in ("compiled", "run")),
                  key=lambda p: p.stat().st_mtime)
    for old in runs[:-KEEP_RUNS]:
        shutil.rmtree(old, ignore_errors=True)


def build_dbt_definitions(settings: Settings) -> dg.Definitions:
    project = make_dbt_project(settings)
    manifest = prepare(project, settings)
    home = dbt_home(settings)

    @dbt_assets(
        manifest=manifest,
        project=project,
        name=DBT_OP,
        dagster_dbt_translator=OakenDbtTranslator(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True, enable_source_tests_as_checks=True
            )
        ),
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtConfig):
        # dbt's unit tests (fixtures, no warehouse data) run in the test suite, not here
        args = ["build", "--exclude-resource-type", "unit_test", *dbt_arguments(settings),
                *(["--full-refresh"] if config.full_refresh else [])]
        # each run's artifacts in a folder of its own under $OAKEN_HOME/dbt/target (dagster-dbt
        # would otherwise put them under the project, or where DBT_TARGET_PATH says)
        run = f"{DBT_OP}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
        invocation = dbt.cli(args, context=context, raise_on_error=False,
                             target_path=Path(project.target_path) / run)
        yield from invocation.stream()
        results_path = Path(invocation.target_path) / "run_results.json"
        if results_path.exists():
            shutil.copyfile(results_path, home / "last_run_results.json")
        _keep_recent_runs(Path(project.target_path))
        if not invocation.is_successful():
            detail = []
            if results_path.exists():
                detail = failures(json.loads(results_path.read_text()))
            raise TransformError(
                "dbt build failed: " + (", ".join(detail[:5]) or "see $OAKEN_HOME/dbt/logs")
                + (f" and {len(detail) - 5} more" if len(detail) > 5 else "")
            )

    resource = DbtCliResource(
        project_dir=project, dbt_executable=dbt_executable(), target=project.target
    )
    return dg.Definitions(assets=[dbt_models], resources={"dbt": resource})

