"""The Faust edge: decode, batch, dead-letter, hand events to the engine and rows to the sink, then commit.

Business logic stays in `streams.engine`; this package only moves events in and rows out.
"""
