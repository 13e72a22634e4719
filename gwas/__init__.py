"""Genotypes -> association -> summary statistics -> h2/rg -> loci/genes -> cell types.

Never imports torch. Hail is imported only by :mod:`gwas.engines.hail`.
"""
