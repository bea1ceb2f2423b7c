"""The contact-center simulator: scenario files, seeded demand, the discrete-event core, outputs and truth.

Producers import only the event contract from `streams`, never the engine, so its truth stays independent.
"""
