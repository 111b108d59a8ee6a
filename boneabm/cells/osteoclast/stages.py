"""Stages and resorption modes as the tables name them.

Stages follow from each cell's signaling state, never from timers (per nucleus, so a fused cell is judged by
its concentrations):
  precursor        mononuclear, below the commitment marker's threshold; divides on M-CSF
  pre-osteoclast   committed (TRAP⁺) for good, mononuclear, stops dividing
  multinucleated   ≥ 2 nuclei; an osteoclast from ``min_nuclei`` on, which resorbs
"""

import numpy as np

MODE_NAMES = np.array(["none", "migrating", "pit", "trench"])


def stages(nuclei, committed, min_nuclei: int) -> np.ndarray:
    """Each cell's stage name: precursor, preosteoclast (TRAP⁺ mononuclear), multinucleated, osteoclast."""
    return np.select([nuclei >= min_nuclei, nuclei > 1, committed], ["osteoclast", "multinucleated", "preosteoclast"],
                     "precursor")
