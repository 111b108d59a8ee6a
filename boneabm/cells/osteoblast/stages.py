"""Stages as the tables name them. They follow from each cell's molecules, never from timers:
  progenitor   uncommitted mesenchymal cell; divides while its SMAD2/3 signal lasts, wanders
  osteoblast   committed by Osterix for good; stays put, no longer divides, lays down matrix as its collagen
               secretion fires (so how much a cell makes is its network's, not its stage's)
  lining       a flat cell covering quiescent surface; its network is quiescent (runs no events) until woken;
               it lifts off where the canopy forms
"""

import numpy as np


def stages(committed, lining) -> np.ndarray:
    return np.select([lining, committed], ["lining", "osteoblast"], "progenitor")
