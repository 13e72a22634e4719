"""How the CPU threads of torch (and of numpy's BLAS) wait: passively, by default.

The OpenMP runtime of the torch CPU build spins while its threads wait for each
other. Alone on the machine that costs nothing, but beside another CPU-bound process
(a test run, a second training, Spark) the spinning threads take the cores the working
ones need. Measured with ``benchmarks/train_throughput.py`` (demo preset, R-NCE stage 1,
2 cores, one ``while True: pass`` beside it): 20.1 subjects/s alone; 7.6 beside it with
the default (2.6x slower, where a fair share of the CPU would give about 13); 11.7 with
``OMP_WAIT_POLICY=PASSIVE``; alone, passive waiting gives 20.2-21.0 against 20.9-21.3.

:func:`prefer_passive_waiting` sets ``OMP_WAIT_POLICY=PASSIVE`` unless the user set it;
the OpenMP runtime reads it once, when it loads, so this runs before torch is imported
(the CLI's entry point, and :mod:`rnce_bag.ssl` for library use).
"""

from __future__ import annotations

import os
import sys

VARIABLE = "OMP_WAIT_POLICY"


def prefer_passive_waiting() -> bool:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless set; return whether it will take effect.

    False when the variable was already set by the user (theirs is kept) or when torch
    is already imported (its OpenMP runtime has read the environment).
    """
    if VARIABLE in os.environ:
        return False
    os.environ[VARIABLE] = "PASSIVE"
    return "torch" not in sys.modules
