"""Grafana dashboards generated from `sql/dashboards`: one table panel per query, the same SQL with its
parameters mapped to Grafana's macros and variables, so Grafana and `acdscope query` can never drift apart.

Generation only: `python -m acdscope.grafana` rewrites `infra/grafana/dashboards/acdscope.json`; a test
checks the committed file matches.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from acdscope.dashboards import available
from acdscope.dashboards import load
from acdscope.dashboards import parameters_of

OUT = Path(__file__).resolve().parents[1] / "infra" / "grafana" / "dashboards" / "acdscope.json"
DATASOURCE = {"type": "grafana-clickhouse-datasource", "uid": "acdscope-clickhouse"}
# How each query parameter is filled in Grafana (the ClickHouse plugin's time macros and a tenant variable).
GRAFANA_VALUES = {
    "from": "$__fromTime",
    "until": "$__toTime",
    "tenant": "'${tenant}'",
    "tz": "'${tz}'",
    "min_duration_s": "0",
}


def grafana_sql(name: str) -> str:
    sql = load(name)
    unknown = set(parameters_of(name)) - set(GRAFANA_VALUES)
    if unknown:
        raise ValueError(f"{name}: no Grafana value for parameters {sorted(unknown)}")
    return re.sub(r"\{(\w+):[^}]+\}", lambda match: GRAFANA_VALUES[match.group(1)], sql)


def build_dashboard() -> dict[str, Any]:
    panels = []
    for index, name in enumerate(available()):
        question = load(name).splitlines()[0].removeprefix("-- Question:").strip()
        panels.append(
            {
                "id": index + 1,
                "type": "table",
                "title": name.replace("_", " "),
                "description": question,
                "datasource": DATASOURCE,
                "gridPos": {"h": 9, "w": 24, "x": 0, "y": index * 9},
                "targets": [
                    {
                        "refId": "A",
                        "datasource": DATASOURCE,
                        "editorType": "sql",
                        "format": 1,
                        "rawSql": grafana_sql(name),
                    }
                ],
            }
        )
    return {
        "uid": "acdscope",
        "title": "acdscope: outsourcing analytics",
        "schemaVersion": 39,
        "time": {"from": "now-7d", "to": "now"},
        "refresh": "30s",
        "templating": {
            "list": [
                {
                    "name": "tenant",
                    "type": "query",
                    "datasource": DATASOURCE,
                    "query": "select distinct tenant from source_terms order by tenant",
                    "refresh": 1,
                },
                {
                    "name": "tz",
                    "label": "center time zone (IANA)",
                    "type": "textbox",
                    "query": "UTC",
                    "current": {"text": "UTC", "value": "UTC"},
                },
            ]
        },
        "panels": panels,
    }


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(build_dashboard(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
