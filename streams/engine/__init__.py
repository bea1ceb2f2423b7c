"""The pure metric engine: canonical events in, aggregate rows out.

No I/O, no clock reads, no Faust: the worker, the embedded demo and the tests drive the same objects.
"""
