"""Each basic multicellular unit (BMU) the experiment activates, followed from activation on: what ``bmus.csv``
reports, one row per activation in ``osteocytes.activations``.

A BMU's region is the connected surface being remodeled (osteocytes signalling for resorption, a cavity not yet
refilled, osteoid: ``canopy.remodeling_surface``) that holds its activation's centre; a site that joins it stays
in it, so the region grows as the cutting cone advances and keeps the surface it refilled. Each tick the tracker
notes whether bone was removed or laid down in the region and how many osteoclasts and matrix-making
osteoblasts sit on it. Times are those of the last tick seen: a BMU still resorbing when the run ends has its
latest resorption as ``resorption_end_h``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from boneabm.environment.bone import RESORBED_DEPTH_UM

ROW = ("bmu_id", "activated_h", "resorption_end_h", "formation_start_h", "formation_end_h", "reversal_h",
       "erosion_depth_um",
       "wall_thickness_um", "resorbed_um3", "formed_um3", "max_osteoclasts", "max_osteoblasts")
_TIMES = ("resorption_end_h", "formation_start_h", "formation_end_h")


class BmuTracker:
    def __init__(self, activations, shape: tuple[int, int], spacing_um: float):
        self.activations = activations
        self.centres = [(min(int(a.x_um // spacing_um), shape[0] - 1), min(int(a.y_um // spacing_um), shape[1] - 1))
                        for a in activations]
        n = len(activations)
        self.regions = np.zeros((n, *shape), dtype=bool)
        self.times = {name: np.full(n, np.nan) for name in _TIMES}
        self.removed_um3 = np.zeros(n)  # what the region held at the last tick: mineral removed, matrix formed
        self.formed_um3 = np.zeros(n)
        self.max_osteoclasts = np.zeros(n, dtype=np.int64)
        self.max_osteoblasts = np.zeros(n, dtype=np.int64)

    def update(self, time_h: float, remodeling: np.ndarray, bone, osteoclast_sites, osteoblast_sites) -> None:
        """After a tick: grow each started BMU's region by the remodeling surface connected to its centre, note
        resorption and formation in it and the cells on it (``*_sites``: (x, y) of the osteoclasts and of the
        matrix-making osteoblasts)."""
        labels, _ = ndimage.label(remodeling, structure=np.ones((3, 3), bool))
        area = bone.pixel_area_um2 * bone.config.pixels_per_site ** 2
        removed = bone.site_mean(bone.mineral_depth_um) * area
        formed = bone.site_mean(bone.formed_depth_um()) * area
        for i, (activation, (cx, cy)) in enumerate(zip(self.activations, self.centres)):
            if time_h <= activation.at_h:
                continue
            if labels[cx, cy]:
                self.regions[i] |= labels == labels[cx, cy]
            region = self.regions[i]
            now_removed, now_formed = float(removed[region].sum()), float(formed[region].sum())
            if now_removed > self.removed_um3[i]:
                self.times["resorption_end_h"][i] = time_h
            if now_formed > self.formed_um3[i]:
                if np.isnan(self.times["formation_start_h"][i]):
                    self.times["formation_start_h"][i] = time_h
                self.times["formation_end_h"][i] = time_h
            self.removed_um3[i], self.formed_um3[i] = now_removed, now_formed
            for sites, top in ((osteoclast_sites, self.max_osteoclasts), (osteoblast_sites, self.max_osteoblasts)):
                top[i] = max(top[i], int(region[sites[0], sites[1]].sum()))

    def rows(self, bone) -> list[dict]:
        """One row per BMU (``ROW``): erosion depth is the mean depth of the region's eroded pixels, wall
        thickness the mean thickness of new matrix where the region's surface was rebuilt, reversal the median time
        from an eroded pixel's last resorption to its first new matrix."""
        p = bone.config.pixels_per_site
        formed_px = bone.formed_depth_um()
        formed_h = bone.new_bone.formed_h if bone.new_bone is not None else np.full(bone.shape, np.nan)
        waited_px_h = formed_h - bone.resorbed_h
        out = []
        for i, activation in enumerate(self.activations):
            pixels = np.repeat(np.repeat(self.regions[i], p, axis=0), p, axis=1)
            eroded = pixels & (bone.mineral_depth_um > RESORBED_DEPTH_UM)
            rebuilt = pixels & (formed_px > 0)
            waited_h = waited_px_h[eroded & rebuilt]
            out.append({
                "bmu_id": i, "activated_h": float(activation.at_h),
                **{name: float(self.times[name][i]) for name in _TIMES},
                "reversal_h": float(np.median(waited_h)) if waited_h.size else np.nan,
                "erosion_depth_um": float(bone.mineral_depth_um[eroded].mean()) if eroded.any() else 0.0,
                "wall_thickness_um": float(formed_px[rebuilt].mean()) if rebuilt.any() else 0.0,
                "resorbed_um3": float(self.removed_um3[i]), "formed_um3": float(self.formed_um3[i]),
                "max_osteoclasts": int(self.max_osteoclasts[i]), "max_osteoblasts": int(self.max_osteoblasts[i]),
            })
        return out

    _ARRAYS = ("regions", "removed_um3", "formed_um3", "max_osteoclasts", "max_osteoblasts")

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays = {name: getattr(self, name).copy() for name in self._ARRAYS}
        arrays.update({f"time/{name}": values.copy() for name, values in self.times.items()})
        return arrays, {}

    def restore(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        for name in self._ARRAYS:
            setattr(self, name, arrays[name])
        self.times = {name: arrays[f"time/{name}"] for name in _TIMES}
