"""The culture medium: one well-mixed compartment over the simulated patch of culture surface.

Cells take up M-CSF from it (receptor-mediated internalisation and degradation, Tushinski et al. 1982 Cell
28:71); a medium change restores every factor to its fresh level.
"""

import math

from scipy.special import wrightomega

from boneabm.config import MediumConfig
from boneabm.units import MCSF_HOMODIMER_DA, molecules_per_ng_ml


def michaelis_menten_depletion(c0: float, removal_ng_ml_per_h: float, km_ng_ml: float, dt_h: float) -> float:
    """Exact concentration after ``dt_h`` of dC/dt = -R·C/(Km + C), from C(0) = c0.

    The implicit solution Km·ln(C/c0) + C - c0 = -R·t gives C = Km·ω(ln(c0/Km) + (c0 - R·t)/Km), with ω the
    Wright omega function: non-negative and exact at any tick length, so uptake never overdraws the medium.
    """
    if c0 <= 0.0 or removal_ng_ml_per_h <= 0.0:
        return max(c0, 0.0)
    z = math.log(c0 / km_ng_ml) + (c0 - removal_ng_ml_per_h * dt_h) / km_ng_ml
    return km_ng_ml * float(wrightomega(z).real)


class Medium:
    def __init__(self, config: MediumConfig, area_cm2: float):
        self.config = config
        self.volume_ml = config.volume_ul_per_cm2 * area_cm2 * 1e-3
        self.mcsf_molecules_per_ng_ml = molecules_per_ng_ml(self.volume_ml, MCSF_HOMODIMER_DA)
        self.mcsf_ng_ml = config.mcsf_ng_ml
        self.rankl_ng_ml = config.rankl_ng_ml
        self.n_changes = 0

    def change(self) -> None:
        """Replace the medium with fresh medium."""
        self.mcsf_ng_ml = self.config.mcsf_ng_ml
        self.rankl_ng_ml = self.config.rankl_ng_ml
        self.n_changes += 1

    def take_up_mcsf(self, n_cells: int, uptake_max_per_h: float, km_ng_ml: float, dt_h: float) -> float:
        """Let ``n_cells`` take up M-CSF for ``dt_h``; return the molecules consumed."""
        removal_ng_ml_per_h = n_cells * uptake_max_per_h / self.mcsf_molecules_per_ng_ml
        before = self.mcsf_ng_ml
        self.mcsf_ng_ml = michaelis_menten_depletion(before, removal_ng_ml_per_h, km_ng_ml, dt_h)
        return (before - self.mcsf_ng_ml) * self.mcsf_molecules_per_ng_ml
