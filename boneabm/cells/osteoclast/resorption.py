"""How much bone an osteoclast removes per hour, and over what footprint, from its size and function genes."""

from __future__ import annotations

import numpy as np

from boneabm.cells.osteoclast.fates import hill
from boneabm.config import OsteoclastConfig


def resorption_um3_per_h(nuclei, trap, ctsk, atp6v0d2, itgb3, p: OsteoclastConfig):
    """Mineral and collagen removal rates of an osteoclast, µm³/h, from its size and function genes.

    Integrin β3 (sealing zone) and Atp6v0d2 (acidification) gate demineralisation; TRAP adds to it; cathepsin K
    decides how much of the demineralised collagen is degraded (Saftig 1998: without it, collagen remains).
    """
    k = p.function_gene_half_molecules
    activity = hill(itgb3 / nuclei, k, 1.0) * hill(atp6v0d2 / nuclei, k, 1.0) * (0.5 + 0.5 * hill(trap / nuclei, k, 1.0))
    mineral = p.resorption_um3_per_h_per_nucleus * nuclei * activity
    return mineral, mineral * hill(ctsk / nuclei, k, 1.0)


def footprint_radius_um(nuclei, p: OsteoclastConfig):
    return p.footprint_radius_um_per_sqrt_nucleus * np.sqrt(nuclei)
