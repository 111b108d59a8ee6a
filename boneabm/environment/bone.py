"""The resorbable bone slice under the cells: depth maps of removed mineral and collagen, and pit metrics.

The slice is a grid of square pixels, ``pixels_per_site`` to a side of each cell-grid site. Each pixel records
how deep its mineral has been removed (demineralisation) and how deep its collagen has been removed
(cathepsin K); collagen cannot go deeper than mineral, so a cathepsin K-deficient osteoclast leaves
demineralised collagen behind (Saftig 1998). Resorption spreads an osteoclast's volume over its footprint, a
disk of pixels; every µm³ removed is booked to the osteoclast that removed it.

Metrics: resorbed volume and area, the number of resorption events (connected resorbed areas, 8-connected) and
among them trenches (length ≥ ``trench_elongation`` × width, from the area's second moments) and pits, mean and
maximum depth.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy import ndimage

from boneabm.config import BoneConfig, DomainConfig

RESORBED_DEPTH_UM = 0.05  # a pixel counts as resorbed once this much mineral is gone: below, noise of the scan


class Bone:
    def __init__(self, config: BoneConfig, domain: DomainConfig):
        self.config = config
        self.pixel_um = domain.grid_spacing_um / config.pixels_per_site
        self.shape = (domain.shape[0] * config.pixels_per_site, domain.shape[1] * config.pixels_per_site)
        self.periodic = domain.periodic
        self.mineral_depth_um = np.zeros(self.shape)
        self.collagen_depth_um = np.zeros(self.shape)
        self.removed_by = defaultdict(lambda: np.zeros(2))  # osteoclast id -> (mineral, collagen) µm³

    @property
    def pixel_area_um2(self) -> float:
        return self.pixel_um**2

    def footprint(self, x_um: float, y_um: float, radius_um: float) -> tuple[np.ndarray, np.ndarray]:
        """Pixel indices of a disk (at least the pixel under the centre)."""
        r = max(radius_um / self.pixel_um, 0.5)
        cx, cy = x_um / self.pixel_um - 0.5, y_um / self.pixel_um - 0.5
        span = np.arange(-int(np.ceil(r)), int(np.ceil(r)) + 1)
        dx, dy = np.meshgrid(span + np.round(cx), span + np.round(cy), indexing="ij")
        inside = (dx - cx) ** 2 + (dy - cy) ** 2 <= r**2
        ix, iy = dx[inside].astype(np.int64), dy[inside].astype(np.int64)
        if self.periodic:
            return ix % self.shape[0], iy % self.shape[1]
        keep = (ix >= 0) & (ix < self.shape[0]) & (iy >= 0) & (iy < self.shape[1])
        return ix[keep], iy[keep]

    def resorb(self, osteoclast_id: int, x_um: float, y_um: float, radius_um: float, mineral_um3: float,
               collagen_um3: float) -> tuple[float, float]:
        """Remove up to ``mineral_um3`` of mineral, then up to ``collagen_um3`` of collagen, evenly under the
        footprint; collagen only where mineral is already gone. Returns what was removed (µm³)."""
        ix, iy = self.footprint(x_um, y_um, radius_um)
        area = ix.size * self.pixel_area_um2
        thickness = self.config.thickness_um
        mineral = self.mineral_depth_um[ix, iy]
        new_mineral = np.minimum(mineral + mineral_um3 / area, thickness)
        collagen = self.collagen_depth_um[ix, iy]
        new_collagen = np.minimum(collagen + collagen_um3 / area, new_mineral)
        self.mineral_depth_um[ix, iy] = new_mineral
        self.collagen_depth_um[ix, iy] = new_collagen
        removed = np.array([(new_mineral - mineral).sum(), (new_collagen - collagen).sum()]) * self.pixel_area_um2
        self.removed_by[osteoclast_id] += removed
        return float(removed[0]), float(removed[1])

    def metrics(self) -> dict[str, float]:
        """Resorbed volume and area, pits and trenches, depths."""
        resorbed = self.mineral_depth_um > RESORBED_DEPTH_UM
        labels, n_events = ndimage.label(resorbed, structure=np.ones((3, 3)))
        n_trenches = sum(self._elongation(np.argwhere(labels == k)) >= self.config.trench_elongation
                         for k in range(1, n_events + 1))
        depths = self.mineral_depth_um[resorbed]
        return {
            "resorbed_volume_um3": float(self.mineral_depth_um.sum() * self.pixel_area_um2),
            "collagen_removed_um3": float(self.collagen_depth_um.sum() * self.pixel_area_um2),
            "resorbed_area_um2": float(resorbed.sum() * self.pixel_area_um2),
            "n_pits": int(n_events - n_trenches),
            "n_trenches": int(n_trenches),
            "mean_depth_um": float(depths.mean()) if depths.size else 0.0,
            "max_depth_um": float(depths.max()) if depths.size else 0.0,
        }

    @staticmethod
    def _elongation(pixels: np.ndarray) -> float:
        """Length over width of a pixel set: the square root of the ratio of its inertia's eigenvalues, with
        each pixel's own extent (variance 1/12) added, so a single row of n pixels scores ≈ n/1·√(…)."""
        if len(pixels) < 2:
            return 1.0
        covariance = np.cov(pixels.T, bias=True) + np.eye(2) / 12
        small, large = np.linalg.eigvalsh(covariance)
        return float(np.sqrt(large / small))

    def depth_table(self) -> dict[str, np.ndarray]:
        """Resorbed pixels in long format (pixel centres in µm)."""
        ix, iy = np.nonzero(self.mineral_depth_um > 0)
        return {"x_um": (ix + 0.5) * self.pixel_um, "y_um": (iy + 0.5) * self.pixel_um,
                "mineral_depth_um": self.mineral_depth_um[ix, iy],
                "collagen_depth_um": self.collagen_depth_um[ix, iy]}
