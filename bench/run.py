"""`make bench`: every benchmark in turn; each rewrites its section of BENCHMARKS.md.

    .venv/bin/python bench/run.py            # the sizes the issues ask for
    .venv/bin/python bench/run.py --quick    # small sizes, to check the harness
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="oaken-bench-"))
    warehouse = home / "warehouse.duckdb"  # built by the analytics bench, read by the next
    runs = [
        ["streaming.py", *(["--sales", "20000", "--latency-seconds", "5"] if args.quick
                           else [])],
        ["api_auth.py", *(["--requests", "300", "--rounds", "1"] if args.quick else [])],
        ["import_breakdown.py", *(["--rows", "20000"] if args.quick else [])],
        ["el_readers.py", *(["--rows", "20000"] if args.quick else [])],
        ["analytics.py", "--home", str(home), "--keep",
         *(["--rows", "50000"] if args.quick else [])],
        # live analytics: freshness while 200 sales/s stream, then one micro-batch on the
        # 12.5M-sale home the analytics bench kept
        ["live.py", *(["--minutes", "2", "--rate", "50"] if args.quick
                      else ["--big-home", str(home)])],
        # the analytics warehouse holds 12.5M sales plus the 1 % of its incremental step
        ["dashboard.py", "--warehouse", str(warehouse),
         *([] if args.quick else ["--section", "dashboard-12.5m"])],
        # faults, overload and a 30-minute soak of the running platform
        ["chaos.py", *(["--quick"] if args.quick else [])],
    ]
    for script, *extra in runs:
        print(f"== bench/{script} {' '.join(extra)}", flush=True)
        subprocess.run([sys.executable, str(HERE / script), *extra], check=True)


if __name__ == "__main__":
    main()
