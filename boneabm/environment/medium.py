"""The culture medium: one well-mixed compartment over the simulated patch of culture surface.

Cells take up M-CSF and bind or internalise RANKL from it; their signaling networks report how many molecules,
and the medium loses exactly those. A medium change restores every factor to its fresh level.

Uptake over a tick is computed at the tick's starting concentrations; should cells ask for more than the
medium holds, it is emptied, never driven negative.
"""

from boneabm.config import MediumConfig
from boneabm.units import MCSF_HOMODIMER_DA, RANKL_MONOMER_DA, molecules_per_ng_ml


class Medium:
    def __init__(self, config: MediumConfig, area_cm2: float):
        self.config = config
        self.volume_ml = config.volume_ul_per_cm2 * area_cm2 * 1e-3
        self.mcsf_molecules_per_ng_ml = molecules_per_ng_ml(self.volume_ml, MCSF_HOMODIMER_DA)
        self.rankl_molecules_per_ng_ml = molecules_per_ng_ml(self.volume_ml, RANKL_MONOMER_DA)
        self.mcsf_ng_ml = config.mcsf_ng_ml
        self.rankl_ng_ml = config.rankl_ng_ml
        self.n_changes = 0

    def change(self) -> None:
        """Replace the medium with fresh medium."""
        self.mcsf_ng_ml = self.config.mcsf_ng_ml
        self.rankl_ng_ml = self.config.rankl_ng_ml
        self.n_changes += 1

    def take_up(self, mcsf_molecules: float, rankl_molecules: float) -> None:
        """Remove what the cells took up (negative: gave back) in one tick."""
        self.mcsf_ng_ml = max(0.0, self.mcsf_ng_ml - mcsf_molecules / self.mcsf_molecules_per_ng_ml)
        self.rankl_ng_ml = max(0.0, self.rankl_ng_ml - rankl_molecules / self.rankl_molecules_per_ng_ml)
