"""Imaging ingest: FreeSurfer stats, NIfTI preprocessing, patch layout, dataset."""
