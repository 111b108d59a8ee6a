"""Stages as the tables name them. They follow from each cell's molecules, never from timers:
  progenitor   uncommitted mesenchymal cell; divides while its SMAD2/3 signal lasts, wanders
  osteoblast   committed by Osterix for good; stays put, no longer divides, lays down matrix as its collagen
               secretion fires (so how much a cell makes is its network's, not its stage's)
"""

import numpy as np


def stages(committed) -> np.ndarray:
    return np.where(committed, "osteoblast", "progenitor")
