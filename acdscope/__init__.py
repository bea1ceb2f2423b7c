"""acdscope: streaming analytics for contact centers that outsource part of their calls.

This package only wires the others together (CLI, settings, reports); metrics live in `streams.engine`.
"""
