"""The ClickHouse edge: client construction, numbered migrations and the batched, idempotent sink.

Everything reaches ClickHouse through `clickhouse-connect`, so the same code runs against a server, the local
chDB endpoint or in-process chDB; no metric is computed here.
"""
