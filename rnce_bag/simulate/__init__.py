"""Synthetic cohort with planted truth, written in real file formats.

Modules: ``config`` (presets), ``cohort`` (demography, diagnosis, amyloid,
conversion, sites), ``genome`` (GRCh37 layout, loci), ``genotypes`` (msprime
coalescent -> PLINK 1 bed/bim/fam), ``genetics`` (causal variants, genetic value),
``celltypes`` (specificity table), ``phenotypes`` (latent factors -> anatomy),
``freesurfer`` (FS 7 stats writer), ``anatomy`` (T1 images from the MNI152 template),
``run`` (orchestration and truth files).
"""
