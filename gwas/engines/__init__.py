"""Association engines: Hail (engine of record) and PLINK 2 (one-machine speed)."""
