"""Engine checkpoints in ClickHouse: compressed JSON snapshots keyed by (app, topic, partition).

Only storage; when to checkpoint and what may be committed is the edge's decision.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
import zstandard
from clickhouse_connect.driver.client import Client


def encode(snapshot: dict[str, Any]) -> str:
    """zstd-compressed JSON in base64: snapshots repeat their keys a lot and compress ~10x."""
    raw = orjson.dumps(snapshot, option=orjson.OPT_NON_STR_KEYS)
    return base64.b64encode(zstandard.ZstdCompressor(level=3).compress(raw)).decode()


def decode(text: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(zstandard.ZstdDecompressor().decompress(base64.b64decode(text)))
    return data


def load(client: Client, app_id: str, topic: str, partition: int) -> dict[str, Any] | None:
    result = client.query(
        "select snapshot from engine_checkpoint final"
        " where app_id = {app:String} and topic = {topic:String} and stream_partition = {partition:UInt16}",
        parameters={"app": app_id, "topic": topic, "partition": partition},
    )
    rows = result.result_rows
    return decode(rows[0][0]) if rows else None
