"""The ``oaken`` command (docs/reference.md, "Commands").

Expected failures (an unreachable database or broker, a bad file, a bad setting)
raise :class:`~oaken.errors.OakenError`; :func:`main` prints them as one line on
stderr and exits 1.
"""

from __future__ import annotations

import json
import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from oaken.console import err, progress_bar
from oaken.console import out as console
from oaken.errors import ConfigError, OakenError
from oaken.settings import Settings, load_settings

app = typer.Typer(
    help="Oaken Spirits data platform: sales stream → single source of truth → shipping → "
    "accounting, and the analytics on top.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
dlq_app = typer.Typer(help="List, re-submit and discard dead letters (the dead_letters table).",
                      no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")


def settings() -> Settings:
    return load_settings()


class Stage(StrEnum):
    orders = "orders"
    shipping = "shipping"
    accounting = "accounting"


class Format(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


@app.command()
def up() -> None:
    """Run everything in the foreground: broker (unless OAKEN_KAFKA_BOOTSTRAP is set),
    topics, migrations, the three workers and the ingest API. Ctrl-C stops cleanly."""
    from oaken.ops.runtime import Stack

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = settings()
    stack = Stack(config)
    stack.start()
    err.print(f"[green]up[/]: Kafka {config.bootstrap_servers}, API "
              f"http://{config.api_host}:{config.api_port}, logs in {stack.logs}")
    stack.run_forever()
    err.print("stopped cleanly")


@app.command()
def worker(
    stage: Annotated[Stage, typer.Argument(help="which stage to run")],
    idle_exit: Annotated[float | None, typer.Option(
        help="exit after this many seconds without messages (for batch-style runs)")] = None,
) -> None:
    """Run one worker in the foreground. Start several copies of one stage to scale out:
    they share the partitions of one consumer group."""
    from oaken.db.engine import make_engine
    from oaken.ops.runtime import prepare_patiently
    from oaken.workers.loop import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = settings()
    prepare_patiently(config)
    runner = Worker(stage.value, config, make_engine(config.database_url))
    runner.install_signal_handlers()
    runner.run(idle_exit=idle_exit)
    err.print(f"{stage.value}: processed {runner.processed}, dead-lettered {runner.dead}")


@app.command()
def api() -> None:
    """Serve the ingest HTTP API (POST /v1/sales, GET /healthz, GET /metrics). With the
    journal (OAKEN_JOURNAL) it starts and accepts sales while the broker is away."""
    from oaken.api.app import serve
    from oaken.ops.runtime import prepare_patiently

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = settings()
    if not config.journal_enabled:
        prepare_patiently(config, give_up_after=60)
    serve(config)


@app.command()
def repair(
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="only count the gaps, send nothing")] = False,
    every: Annotated[bool, typer.Option(
        "--every", help="keep going, a pass every OAKEN_REPAIR_INTERVAL_SECONDS "
        "(as `oaken up` runs it)")] = False,
) -> None:
    """Find sales with no shipment and sales or shipments with no ledger entry, older
    than OAKEN_REPAIR_GRACE_SECONDS, and publish their events again (every stage is
    idempotent, so nothing is posted twice)."""
    import signal
    import threading

    from sqlalchemy.exc import DBAPIError

    from oaken.db.engine import make_engine, wait_for_database
    from oaken.ops.repair import Reconciler
    from oaken.workers.heartbeat import Heartbeat

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = settings()
    engine = make_engine(config.database_url)
    reconciler = Reconciler(config, engine)
    if not every:
        wait_for_database(engine, timeout=10)
        result = reconciler.run_once(dry_run=dry_run)
        for kind, count in result.found.items():
            err.print(f"{kind}: {count:,}")
        err.print(f"{'would send' if dry_run else 'sent'} "
                  f"{result.total if dry_run else result.sent:,} events again")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    heartbeat = Heartbeat(config.home, "repair")  # `oaken healthcheck repair`
    heartbeat.beat()
    try:
        while not stop.wait(config.repair_interval_seconds):
            try:
                reconciler.run_once(dry_run=dry_run)
            except (OakenError, DBAPIError) as problem:  # the next pass tries again
                logging.getLogger("oaken.repair").warning(
                    "repair pass failed: %s", " ".join(str(problem).split())[:200])
            heartbeat.beat()
    finally:
        heartbeat.stop()


@app.command("migrate")
def migrate_command(
    topics: Annotated[bool, typer.Option(
        "--topics/--no-topics", help="also create the missing Kafka topics (only with "
        "OAKEN_KAFKA_BOOTSTRAP: the embedded broker is `oaken up`'s)")] = True,
    wait: Annotated[float, typer.Option(
        help="seconds to wait for the database and the cluster to answer")] = 120.0,
) -> None:
    """Bring the database to the newest migration (Alembic) and create the missing topics
    with OAKEN_PARTITIONS and OAKEN_REPLICATION_FACTOR, then exit. Run it before the
    services of a new version start (the one-shot `migrate` service of
    deploy/docker-compose.yml); idempotent."""
    from confluent_kafka.admin import AdminClient

    from oaken.bus.broker import wait_until_ready
    from oaken.bus.config import admin_config
    from oaken.bus.topics import Topics, ensure_topics
    from oaken.db.migrate import current_revision, migrate

    config = settings()
    migrate(config.database_url, timeout=wait)
    err.print(f"database: at migration {current_revision(config.database_url)}")
    if not topics or config.embedded_broker:
        return
    wait_until_ready(config, timeout=wait)
    created = ensure_topics(AdminClient(admin_config(config)), Topics(config.topic_prefix).all(),
                            partitions=config.partitions,
                            replication_factor=config.replication_factor)
    err.print(f"topics: created {', '.join(created) or 'none (all there)'} on "
              f"{config.bootstrap_servers}")


class Part(StrEnum):
    orders = "orders"
    shipping = "shipping"
    accounting = "accounting"
    repair = "repair"
    api = "api"
    dashboard = "dashboard"
    orchestrator = "orchestrator"
    orchestrator_daemon = "orchestrator-daemon"


@app.command()
def healthcheck(
    part: Annotated[Part, typer.Argument(help="which process on this host")],
    max_age: Annotated[float, typer.Option(
        help="seconds within which a worker or the repairer must have beaten "
        "(the repairer beats once a pass: give it more than OAKEN_REPAIR_INTERVAL_SECONDS)",
    )] = 60.0,
) -> None:
    """Exit 0 when PART runs healthy on this host, else 1 with the reason: a container's
    health check. Workers (`oaken worker`) and the repairer (`oaken repair --every`): a
    live process beat within --max-age; the API: GET /healthz answers 200; the dashboard
    and the orchestrator's UI: their server answers; the orchestrator's daemon: Dagster's
    own liveness check."""
    import httpx

    config = settings()
    if part in (Part.orders, Part.shipping, Part.accounting, Part.repair):
        from oaken.workers.heartbeat import last_beat

        age = last_beat(config.home, part.value)
        if age is None:
            raise OakenError(f"{part.value}: no live process beats on this host "
                             f"({config.home / 'heartbeats'})")
        if age > max_age:
            raise OakenError(f"{part.value}: last heartbeat {age:.0f}s ago (over {max_age:g}s)")
        err.print(f"{part.value}: beat {age:.0f}s ago")
        return
    if part is Part.orchestrator_daemon:
        import subprocess

        from oaken.analytics.cli import dagster_environment, dagster_executable

        result = subprocess.run([dagster_executable("dagster-daemon"), "liveness-check"],
                                env=dagster_environment(config), capture_output=True,
                                text=True, timeout=60)
        if result.returncode != 0:
            lines = (result.stdout.strip().splitlines() or result.stderr.strip().splitlines()
                     or ["no output"])
            raise OakenError(f"orchestrator-daemon: {lines[-1]}")
        err.print("orchestrator-daemon: alive")
        return
    url = {Part.api: f"http://127.0.0.1:{config.api_port}/healthz",
           Part.dashboard: f"http://127.0.0.1:{config.dashboard_port}/_stcore/health",
           Part.orchestrator: f"http://127.0.0.1:{config.dagster_port}/server_info"}[part]
    try:
        answer = httpx.get(url, timeout=5)
    except httpx.HTTPError as problem:
        raise OakenError(f"{part.value}: {url}: {type(problem).__name__}: {problem}") from None
    if answer.status_code != 200:
        raise OakenError(f"{part.value}: {url} answered {answer.status_code}")
    err.print(f"{part.value}: {url} answered 200")


@app.command()
def replay(
    path: Annotated[Path | None, typer.Argument(help="Iowa CSV export or JSON Lines file")] = None,
    synthetic: Annotated[int | None, typer.Option(help="publish N synthetic sales instead")] = None,
    rate: Annotated[float | None, typer.Option(help="messages per second (default: as fast "
                                               "as possible)")] = None,
    seed: Annotated[int, typer.Option(help="seed for --synthetic")] = 42,
) -> None:
    """Publish sale messages to sales.raw through a journal of the replay's own, and
    return once the orders worker has taken every one (sending again what a restarted
    broker lost). Ctrl-C says how many were not yet taken."""
    from oaken.provenance import replay_sender
    from oaken.sources import files, generator
    from oaken.sources.replay import replay_durably

    if (path is None) == (synthetic is None):
        raise ConfigError("give either a PATH or --synthetic N")
    config = settings()
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"no such file: {path}")
        total, records = files.count_records(path), files.read_records(path)
    else:
        assert synthetic is not None  # checked above: exactly one of the two
        total, records = synthetic, generator.iter_sales(synthetic, seed=seed, style="compact")
    with progress_bar() as bar:
        journaled = bar.add_task("replay", total=total, rate="")
        taken = bar.add_task("taken by orders", total=total, rate="")
        result = replay_durably(config, records, rate=rate,
                                sent_by=replay_sender(path),
                                journaled=lambda n: bar.update(journaled, advance=n),
                                consumed=lambda n: bar.update(taken, advance=n))
    again = f", {result.sent_again} sent again after a broker restart" if result.sent_again else ""
    err.print(f"replayed {result.records} messages to {config.topic_prefix}sales.raw: "
              f"{result.consumed} taken by the orders worker{again}")


@app.command()
def generate(
    rows: Annotated[int, typer.Option(help="number of sale lines")],
    out: Annotated[Path, typer.Option(help="file to write")],
    format: Annotated[Format, typer.Option(help="csv (Iowa export) or jsonl (sales app)")] = (
        Format.csv),
    seed: Annotated[int, typer.Option(help="same seed, same file")] = 42,
) -> None:
    """Write deterministic, realistic synthetic sales in the Iowa export format."""
    from oaken.sources.generator import write_sales

    with progress_bar() as bar:
        task = bar.add_task("generate", total=rows, rate="")
        written = write_sales(out, rows, seed=seed, fmt=format.value,
                              progress=lambda n: bar.update(task, advance=n))
    err.print(f"wrote {written} sales to {out}")


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="Iowa CSV export or JSON Lines file")],
) -> None:
    """Bulk historical backfill straight into the database (same validation and
    idempotency as the stream, no Kafka)."""
    from oaken.db.engine import make_engine
    from oaken.db.migrate import migrate
    from oaken.ingest import import_records
    from oaken.provenance import import_sender
    from oaken.sources import files

    if not path.is_file():
        raise ConfigError(f"no such file: {path}")
    config = settings()
    migrate(config.database_url)
    with progress_bar() as bar:
        task = bar.add_task("import", total=files.count_records(path), rate="")
        report = import_records(make_engine(config.database_url), files.read_records(path),
                                batch_size=config.batch_size, sent_by=import_sender(path),
                                progress=lambda n: bar.update(task, advance=n))
    for problem in report.problems:
        err.print(f"  {problem}", markup=False, highlight=False)
    err.print(f"read {report.read}: imported {report.imported}, already there "
              f"{report.absorbed}, invalid {report.invalid}, conflicts {report.conflicts}")


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Row counts, consumer lag and members per group, dead letters, rows waiting for a
    downstream stage, the journal, restarts, live analytics' freshness and the ledger
    balance."""
    from oaken.bus.broker import wait_until_ready
    from oaken.db.engine import make_engine, wait_for_database
    from oaken.ops.status import collect

    config = settings()
    engine = make_engine(config.database_url)
    wait_for_database(engine, timeout=5)
    wait_until_ready(config, timeout=5)
    result = collect(config, engine)
    if as_json:
        print(json.dumps(result.as_json()))
        return
    table = Table(title="Oaken Spirits pipeline", show_header=True)
    table.add_column("what")
    table.add_column("value", justify="right")
    for name, count in result.counts.items():
        table.add_row(name, f"{count:,}")
    for group, lag in result.lag.items():
        table.add_row(f"lag {group}", f"{lag:,}")
    for group, members in result.members.items():
        table.add_row(f"members {group}", f"{members:,}")
    for kind, gap in result.waiting.items():
        age = "" if gap.oldest_seconds is None else f" (oldest {gap.oldest_seconds:,.0f}s)"
        table.add_row(f"waiting: {kind}", f"{gap.rows:,}{age}")
    if result.journal is not None:
        table.add_row("journal records not yet taken", f"{result.journal:,}")
    if result.supervisor:
        for name, process in result.supervisor["processes"].items():
            last = f" (last: {process['last_exit']})" if process["last_exit"] else ""
            table.add_row(f"restarts {name}", f"{process['restarts']:,}{last}")
        table.add_row("broker recycles", f"{result.supervisor['broker_recycles']:,}")
    if result.analytics:
        live = result.analytics
        table.add_row("analytics data through (UTC)", str(live["data_through"] or "no sales yet"))
        if live["lag_seconds"] is not None:
            table.add_row("analytics lag", f"{live['lag_seconds']:,.0f}s")
        table.add_row("analytics runs (failed)", f"{live['runs']:,} ({live['failed_runs']:,})")
        table.add_row("dead letters (open)", f"{result.dlq:,}")
    table.add_row("ledger debits − credits", str(result.ledger_imbalance))
    table.add_row("receivables − sales dollars", str(result.receivable_gap))
    console.print(table)


class LetterStatus(StrEnum):
    open = "open"
    replayed = "replayed"
    discarded = "discarded"
    all = "all"


def _database():
    from oaken.db.engine import make_engine, wait_for_database

    engine = make_engine(settings().database_url)
    wait_for_database(engine, timeout=5)
    return engine


@dlq_app.command("list")
def dlq_list(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON array")] = False,
    status: Annotated[LetterStatus, typer.Option(help="which letters")] = LetterStatus.open,
) -> None:
    """Show dead letters (open ones unless --status says otherwise) with their id, reason,
    stage, where they came from and who sent them."""
    from oaken.ops.dlq import list_letters

    letters = list_letters(_database(), status=status.value)
    if as_json:
        print(json.dumps([letter.as_json() for letter in letters]))
        return
    table = Table(title=f"{len(letters)} dead letters ({status.value})")
    for column in ("id", "status", "stage", "source", "sent by", "reason", "payload"):
        table.add_column(column, overflow="fold")
    for letter in letters:
        payload = letter.payload.decode("utf-8", errors="replace")
        state = letter.status if letter.discard_reason is None else (
            f"{letter.status}: {letter.discard_reason}")
        table.add_row(str(letter.id), state, letter.stage,
                      f"{letter.source_topic}[{letter.partition}]@{letter.offset}",
                      letter.sent_by or "", letter.reason, payload[:120])
    console.print(table)


@dlq_app.command("replay")
def dlq_replay(
    ids: Annotated[list[int] | None, typer.Option("--id", help="a letter to replay "
                                                   "(repeatable); default: every open one")]
    = None,
    timeout: Annotated[float, typer.Option(help="seconds the broker has to acknowledge "
                                           "them")] = 30.0,
) -> None:
    """Re-submit open dead letters to their source topic (after a fix upstream or in the
    code). A letter is marked replayed once the broker acknowledged it; one the broker
    refused stays open, and the command exits 1."""
    from oaken.bus.broker import wait_until_ready
    from oaken.ops.dlq import replay_letters

    config = settings()
    engine = _database()
    wait_until_ready(config, timeout=5)
    outcome = replay_letters(config, engine, ids=ids or None, timeout=timeout)
    err.print(f"replayed {len(outcome.replayed)} dead letters")
    if outcome.refused:
        detail = "; ".join(f"{i}: {why}" for i, why in sorted(outcome.refused.items()))
        raise OakenError(f"the broker refused {len(outcome.refused)} dead letters, which "
                         f"stay open ({detail})")


@dlq_app.command("discard")
def dlq_discard(
    ids: Annotated[list[int], typer.Option("--id", help="a letter to discard (repeatable)")],
    reason: Annotated[str, typer.Option(help="why it is given up (kept with the letter)")],
) -> None:
    """Give up open dead letters for good, with a reason; the letter stays in the table,
    marked discarded, with the reason, when and by whom."""
    from oaken.ops.dlq import discard_letters

    count = discard_letters(_database(), ids, reason)
    err.print(f"discarded {count} dead letters")


@app.command()
def demo(
    sales: Annotated[int, typer.Option(help="synthetic sales to stream")] = 50_000,
    serve: Annotated[bool, typer.Option(help="keep the API, dashboard and orchestrator "
                                        "running afterwards")] = False,
    analytics: Annotated[bool, typer.Option(help="run the analytics after the stream")] = True,
) -> None:
    """The main job on embedded defaults: start everything, stream N synthetic sales
    through the API and Kafka, wait until each is in the ledger, run the analytics and
    print a reconciled summary."""
    from oaken.demo import run_demo

    run_demo(settings(), sales=sales, serve=serve, analytics=analytics, console=console)


def _register_parts() -> None:
    from oaken.analytics.cli import register as register_analytics
    from oaken.dashboard.cli import register as register_dashboard
    from oaken.keys.cli import register as register_keys

    register_analytics(app)
    register_dashboard(app)
    register_keys(app)


_register_parts()


def main() -> None:
    try:
        app()
    except OakenError as problem:
        err.print(f"[red]error[/]: {escape(str(problem))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
