"""`python -m bench [--quick]`: run every benchmark in one process tree and print one table."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import engine, simulator

RESULTS = Path(__file__).with_name("results")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="smaller inputs (a smoke run of every benchmark)"
    )
    args = parser.parse_args()
    # Each benchmark runs in its own child process so CPU pinning and memory peaks do not leak between them.
    plan = [(engine.run, (1 if args.quick else 3,)), (simulator.run, (3 if args.quick else None,))]
    results = []
    for function, arguments in plan:
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            results.append(pool.apply(function, arguments))
    table = Table(title="acdscope benchmarks")
    for column in ("benchmark", "figure", "target", "met", "method"):
        table.add_column(column, overflow="fold")
    for result in results:
        table.add_row(
            result["name"],
            result["figure"],
            result["target"],
            "yes" if result["met"] else "NO",
            result["method"],
        )
    Console().print(table)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    payload = {
        "at": stamp,
        "machine": platform.platform(),
        "cpus": multiprocessing.cpu_count(),
        "results": results,
    }
    (RESULTS / f"bench-{stamp}{'-quick' if args.quick else ''}.json").write_text(
        json.dumps(payload, indent=2)
    )


if __name__ == "__main__":
    main()
