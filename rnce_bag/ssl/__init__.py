"""Self-supervised image representations: R-NCE and its SimCLR / Barlow Twins baselines."""
