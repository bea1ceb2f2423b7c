"""`python -m bench [--quick]`: run every benchmark in one process tree and print one table."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
from datetime import UTC
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import engine
from bench import latency
from bench import memory
from bench import pipeline
from bench import producer
from bench import simulator
from bench import sink
from bench.stack import in_child
from bench.stack import local_stack

RESULTS = Path(__file__).with_name("results")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="smaller inputs (a smoke run of every benchmark)"
    )
    args = parser.parse_args()
    quick = args.quick
    plan = [
        (engine.run, (1 if quick else 3,)),
        (pipeline.run, (1 if quick else 3,)),
        (latency.run, (20 if quick else 40,)),
        (sink.run, (1,)),
        (producer.run, (1 if quick else 3,)),
        (memory.run, (6 if quick else 30,)),
        (simulator.run, (3 if quick else None,)),
    ]
    results = []
    # One local stack for the benchmarks that need servers; each benchmark in its own child process, so CPU
    # pinning and memory peaks do not leak between them.
    with local_stack():
        for function, arguments in plan:
            results.append(in_child(function, arguments))
    table = Table(title="acdscope benchmarks")
    for column in ("benchmark", "figure", "target", "met"):
        table.add_column(column, overflow="fold")
    for result in results:
        met = "—" if result["met"] is None else "yes" if result["met"] else "NO"
        table.add_row(result["name"], result["figure"], result["target"], met)
    console = Console(width=max(120, Console().width))
    console.print(table)
    for result in results:
        console.print(f"[bold]{result['name']}[/bold]: {result['method']}")
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
