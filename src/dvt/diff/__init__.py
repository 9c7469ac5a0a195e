"""`dvt diff`: are two relations, on any two targets, the same rows?

Neither side is copied: each database hashes its own rows after a normalisation both compute
identically (`hashing/`), grouped into buckets by a hash of the key; only the buckets whose
counts or hash sums differ are narrowed and fetched, and compared in Python (`compare.py`).
"""
