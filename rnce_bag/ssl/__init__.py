"""Self-supervised image representations: R-NCE and its SimCLR / Barlow Twins baselines."""

from rnce_bag.core.threads import prefer_passive_waiting

prefer_passive_waiting()  # before the submodules import torch (see rnce_bag.core.threads)
