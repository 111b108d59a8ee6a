"""Osteocytes in the bone beneath the surface, as a count per grid site rather than agents: thousands of them sit
in their lacunae for years, each does the same few things, and what the surface feels is their sum within reach.

Each site holds the osteocytes of the bone layer ``reach_depth_um`` beneath it whose dendrites reach its fluid
(density × site area × depth). Viable osteocytes secrete RANKL at a basal rate, and more when apoptotic
osteocytes lie within ``apoptosis_signal_range_um`` (Gaussian reach): osteocytes dying from microdamage or
disuse make their viable neighbours signal for resorption (Kennedy et al. 2012 Bone 50:1115; Nakashima et al.
2011 Nat Med 17:1231: osteocytes are the main RANKL source in remodeling); they secrete OPG, and sclerostin,
which keeps Wnt off the osteoblast lineage (Li X et al. 2005) and which the blood's PTH (Keller & Kneissel 2005)
and the bone's strain (Robling et al. 2008) repress; and Wnt1, which the osteoblast lineage next to them reads
(Joeng et al. 2017). An activation kills a fraction of the osteocytes in a disk
at a time the experiment sets.
Osteoclasts that erode the bone take its osteocytes with it: the apoptotic ones, which lie in the bone that
will be resorbed, go as the eroded depth passes through their layer, so the signal that started resorption ends
with it (the exhaustion of the site); those the osteoclasts do not reach stop signalling ``apoptosis_signal_days`` after they died (empty lacunae).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from boneabm.config import HABITUAL_STRAIN_MICROSTRAIN, OsteocyteConfig

UM_PER_MM = 1000.0


class Osteocytes:
    def __init__(self, config: OsteocyteConfig, shape: tuple[int, int], spacing_um: float, periodic: bool,
                 pth_nM: float = 0.0):
        """``pth_nM``: the blood's PTH, which represses the osteocytes' Sost, as the bone's strain does."""
        self.config = config
        pth_share = config.sclerostin_pth_half_nM / (config.sclerostin_pth_half_nM + pth_nM)
        half = config.sclerostin_strain_half_microstrain  # sclerostin_per_cell_h is the habitual load's rate
        strain_share = (half + HABITUAL_STRAIN_MICROSTRAIN) / (half + config.strain_microstrain)
        self.sclerostin_share = pth_share * strain_share
        self.spacing_um = spacing_um
        self.periodic = periodic
        per_site = config.density_per_mm3 * spacing_um**2 * config.reach_depth_um / UM_PER_MM**3
        self.viable = np.full(shape, per_site)
        self.apoptotic = np.zeros(shape)  # dying and signalling, not yet resorbed, in the layer they were in
        self.apoptotic_since_h = np.full(shape, np.nan)  # when the site's dying osteocytes died (NaN: none)
        self.eroded_um = np.zeros(shape)  # the eroded depth each site's osteocytes have seen so far

    def activate(self, x_um: float, y_um: float, radius_um: float, fraction: float, time_h: float) -> None:
        """``fraction`` of the viable osteocytes under the sites whose centres lie within ``radius_um`` die at
        ``time_h`` (a site's earlier dying osteocytes, if any, then signal as long as the new ones)."""
        nx, ny = self.viable.shape
        cx = (np.arange(nx) + 0.5) * self.spacing_um - x_um
        cy = (np.arange(ny) + 0.5) * self.spacing_um - y_um
        inside = cx[:, None] ** 2 + cy[None, :] ** 2 <= radius_um**2
        dying = self.viable * fraction * inside
        self.viable -= dying
        self.apoptotic += dying
        self.apoptotic_since_h[inside] = time_h

    def finish_dying(self, time_h: float) -> None:
        """Apoptotic osteocytes ``apoptosis_signal_days`` past their death are empty lacunae: they signal no more."""
        days = self.config.apoptosis_signal_days
        if days is None:
            return
        done = self.apoptotic_since_h <= time_h - days * 24.0
        self.apoptotic[done] = 0.0
        self.apoptotic_since_h[done] = np.nan

    def erode(self, eroded_depth_um: np.ndarray) -> None:
        """Bone eroded down to ``eroded_depth_um`` (mean per site) takes the apoptotic osteocytes of the layer it
        removed since the last call; the viable ones within reach are replaced by those the new surface reaches."""
        depth = self.config.reach_depth_um
        left_before = np.clip(1.0 - self.eroded_um / depth, 0.0, 1.0)
        left_now = np.clip(1.0 - eroded_depth_um / depth, 0.0, 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            kept = np.where(left_before > 0, left_now / left_before, 0.0)
        self.apoptotic *= kept
        self.eroded_um = np.maximum(self.eroded_um, eroded_depth_um)

    def secretion_molecules(self, dt_h: float) -> dict[str, np.ndarray]:
        """Molecules each site's osteocytes secrete into its fluid over ``dt_h``, by field."""
        c = self.config
        signal = self.apoptotic
        if c.apoptosis_signal_range_um > 0 and signal.any():
            mode = "wrap" if self.periodic else "constant"
            signal = ndimage.gaussian_filter(signal, c.apoptosis_signal_range_um / self.spacing_um, mode=mode)
        rankl = self.viable * (c.rankl_per_cell_h + c.rankl_apoptosis_signal_per_cell_h * signal
                               / (c.apoptosis_signal_half_cells + signal))
        return {"rankl": rankl * dt_h, "opg": self.viable * c.opg_per_cell_h * dt_h,
                "sclerostin": self.viable * c.sclerostin_per_cell_h * self.sclerostin_share * dt_h,
                "wnt": self.viable * c.wnt_per_cell_h * dt_h}

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        return {name: getattr(self, name).copy() for name in self._ARRAYS}, {}

    _ARRAYS = ("viable", "apoptotic", "apoptotic_since_h", "eroded_um")

    def restore(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        for name in self._ARRAYS:
            setattr(self, name, arrays[name])
