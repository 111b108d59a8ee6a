"""How the osteoclast lineage's cells are drawn: one colour per stage, a disk whose area grows with its nuclei.
Every view (``boneabm plot``, ``animate`` and ``app``) draws cells through ``boneabm.draw``, which looks each
lineage's style up by name: a new lineage brings a module like this one and registers it there."""

from __future__ import annotations

import numpy as np

from boneabm.draw_style import LineageStyle

# stages as the cells table names them (stages.py), from least to most differentiated: drawn in this order, so
# the few large osteoclasts lie on top of the many precursors
STAGE_COLOURS = {
    "precursor": "#8c96a3",       # grey: the monolayer
    "preosteoclast": "#f2b701",   # amber: committed (TRAP⁺) mononuclear
    "multinucleated": "#e8590c",  # orange: 2 nuclei up to min_nuclei - 1
    "osteoclast": "#9c1de7",      # violet: resorbing multinucleated cells
}
STAGE_LABELS = {"precursor": "precursor", "preosteoclast": "committed (TRAP⁺)",
                "multinucleated": "multinucleated", "osteoclast": "osteoclast (≥ 3 nuclei)"}


def diameter_um(nuclei: np.ndarray, site_um: float) -> np.ndarray:
    """A cell spreads over one site per nucleus: a disk of that area, so size reads as nuclei."""
    return 2.0 * site_um * np.sqrt(np.asarray(nuclei, dtype=float) / np.pi)


STYLE = LineageStyle(name="osteoclast", colours=STAGE_COLOURS, labels=STAGE_LABELS, diameter_um=diameter_um)
