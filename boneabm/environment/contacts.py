"""Contact signals: what touches each site. A membrane-bound ligand (ephrinB2 on osteoclasts) reaches only the
cells next to the one presenting it, so it is a map derived from where the presenting cells are, not a field."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

NEIGHBOURS = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])


def neighbour_share(presenting: np.ndarray, periodic: bool) -> np.ndarray:
    """Per site, the share of its 8 neighbouring sites that hold a presenting cell (0-1)."""
    around = ndimage.convolve(presenting.astype(np.float64), NEIGHBOURS, mode="wrap" if periodic else "constant")
    return around / 8.0
