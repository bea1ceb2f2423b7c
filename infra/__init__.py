"""Local servers for development and tests: Kafka from Maven Central, a ClickHouse HTTP endpoint over chDB.

Infrastructure, not product logic: nothing in streams/ or producers/ imports it.
"""
