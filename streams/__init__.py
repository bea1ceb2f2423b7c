"""The streaming side: the event contract (`streams.events`), the pure engine and the Faust/ClickHouse edge.

`streams.events` and `streams.engine` do no I/O; only `streams.edge` and `streams.warehouse` touch Kafka or ClickHouse.
"""
