"""How the osteoblast lineage's cells are drawn: one colour per stage, every cell one site across (a
mononuclear cell). Registered in ``boneabm.draw``."""

from __future__ import annotations

import numpy as np

from boneabm.draw_style import LineageStyle

STAGE_COLOURS = {
    "lining": "#c9d6e3",  # pale blue-grey: flat cells over quiescent surface, drawn first (beneath the rest)
    "progenitor": "#5fb4a8",  # teal: mesenchymal progenitors
    "osteoblast": "#1f5fbf",  # blue: Osterix-committed, laying down matrix
}
STAGE_LABELS = {"lining": "lining cell", "progenitor": "osteoprogenitor", "osteoblast": "osteoblast (Osterix⁺)"}


def diameter_um(nuclei: np.ndarray, site_um: float) -> np.ndarray:
    """A site's area as a disk, like a mononuclear osteoclast-lineage cell."""
    return 2.0 * site_um * np.sqrt(np.asarray(nuclei, dtype=float) / np.pi)


STYLE = LineageStyle(name="osteoblast", colours=STAGE_COLOURS, labels=STAGE_LABELS, diameter_um=diameter_um)
