"""Shared infrastructure: errors, config, schemas, provenance, atomic I/O, logging.

Nothing here imports torch, hail, pyspark or matplotlib.
"""
