"""Where events come from: the simulator, real-feed adapters and replay.

Producers import only the contract (`streams.events`), never the engine, so ground truth stays independent.
"""
