"""Adapters from real ACD feeds to the canonical events: pure functions from records to events plus rejects.

Reading files or topics is the caller's business; an adapter never drops a record without counting it.
"""
