"""The embedded default end to end: simulator -> engine -> in-process chDB -> dashboard SQL equals ground truth."""

from __future__ import annotations

from pathlib import Path

from acdscope.demo import run_demo
from producers.tiny_sim import TinyScenario


def test_embedded_demo_lands_the_simulators_ground_truth(tmp_path: Path) -> None:
    scenario = TinyScenario(hours=3.0, calls_per_hour=200.0, seed=3)
    outcome = run_demo(tmp_path / "chdb", scenario)
    truth: dict[str, list[int]] = {}
    for (_, source), counts in outcome.truth.table().items():
        acc = truth.setdefault(source, [0, 0, 0])
        for i, value in enumerate(counts):
            acc[i] += value
    assert outcome.totals.columns == ("source", "offered", "answered", "abandoned", "abandon_rate")
    got = {row[0]: [row[1], row[2], row[3]] for row in outcome.totals.rows}
    assert got == truth
    for _source, offered, answered, abandoned, rate in outcome.totals.rows:
        assert offered == answered + abandoned
        assert rate == round(abandoned / offered, 4)
    assert outcome.events == sum(sum(v[:1]) * 2 for v in truth.values())
