"""The metric layer holds every figure's one definition: a SQL function in `sql/metrics`, applied in the layer's
views; dashboards only select and shape. Checked on the SQL text itself, so a figure re-derived in a dashboard
(or defined twice) fails here before it can drift."""

from __future__ import annotations

import re
from pathlib import Path

from acdscope.dashboards import available
from acdscope.dashboards import load

ROOT = Path(__file__).resolve().parents[2]
LAYER = sorted((ROOT / "sql" / "metrics").glob("*.sql"))
MIGRATIONS = [*sorted((ROOT / "sql" / "migrations").glob("*.sql")), *LAYER]
DEFINITION = re.compile(r"create (?:or replace )?function (acd_\w+) as", re.I)


def _code(sql: str) -> str:
    return "\n".join(line.split("--")[0] for line in sql.splitlines())


def test_every_figure_function_is_defined_once() -> None:
    names = [name for path in MIGRATIONS for name in DEFINITION.findall(path.read_text())]
    assert len(names) >= 20
    assert sorted(names) == sorted(set(names))


def test_figures_live_in_the_layer_not_in_migrations() -> None:
    """A formula in a numbered migration could only be changed by copying it: they belong to the layer."""
    for path in MIGRATIONS:
        if path not in LAYER:
            assert not DEFINITION.findall(path.read_text()), path.name


def test_every_function_a_view_or_dashboard_uses_is_defined() -> None:
    defined = {name for path in MIGRATIONS for name in DEFINITION.findall(path.read_text())}
    sql = "\n".join([*(path.read_text() for path in MIGRATIONS), *(load(name) for name in available())])
    used = set(re.findall(r"\b(acd_\w+)\(", _code(sql)))
    assert used <= defined, sorted(used - defined)


def test_dashboards_define_no_figure() -> None:
    """No ratio (`nullIf` guards every division of the layer) and no NULL-aware sum of their own: each reads the
    layer, or one of the worker's own live tables (the RTA board, the alert transitions it decided)."""
    for name in available():
        code = _code(load(name))
        assert "nullIf(" not in code, name
        assert not re.search(r"countIf\(\s*\w+(\.\w+)? is null", code), name
        assert re.search(
            r"\bfrom (source_metrics|call_metrics|volume_interval|adherence_live|alerts|settlement)\b", code
        ), name


def test_the_readme_lists_every_figure_function() -> None:
    readme = (ROOT / "README.md").read_text()
    defined = {name for path in MIGRATIONS for name in DEFINITION.findall(path.read_text())}
    missing = sorted(name for name in defined if f"`{name}`" not in readme)
    assert not missing, missing
