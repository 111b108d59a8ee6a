"""The surface read as a histomorphometrist reads a biopsy, in the ASBMR nomenclature (Dempster et al. 2013 JBMR
28:2), and the serum-marker proxies: what ``timeseries.csv`` reports of remodeling.

Static indices are read from the maps now: eroded surface (a cavity deeper than the scan's noise, not covered
by osteoid), osteoid surface and thickness. Dynamic ones — mineral apposition, mineralising surface, bone
formation rate, and the marker proxies (CTX: collagen resorbed per day; P1NP: matrix laid down per day) — are
taken over the last whole day, between the bone's daily marks (``DailyMarks``), as double labels a day apart
would measure them: a label binds at the mineralisation front, so MAR is the front's advance where it advanced
(MS), and the slow secondary mineralisation behind the front, which moves no label, counts in neither; they are
empty until two marks exist. Surfaces are fractions of the whole bone surface (BS,
the domain's area); cell densities are per mm² of it.
"""

from __future__ import annotations

import numpy as np

from boneabm.environment.formation import HOURS_PER_DAY

RESORBED_DEPTH_UM = 0.05  # a pixel counts as resorbed once this much mineral is gone: below, noise of the scan
UM2_PER_MM2 = 1e6


class DailyMarks:
    """The bone's totals at the last two whole days: collagen removed and matrix formed (µm³) and the depth of
    the mineralisation front (µm per pixel, ``NewBone.front_um``) at each: a double label a day apart."""

    def __init__(self):
        self.marks: list[tuple[float, float, float, np.ndarray]] = []  # (time_h, collagen, matrix, front map)
        # (n_pixels, columns) of ``dynamic`` for these marks: they change once a day, the rows come every hour
        self._dynamic: tuple[int, dict[str, float]] | None = None

    def due(self, time_h: float) -> bool:
        """Whether ``time_h`` starts a day not yet marked."""
        day = np.floor(time_h / HOURS_PER_DAY + 1e-9)
        return not self.marks or day > np.floor(self.marks[-1][0] / HOURS_PER_DAY + 1e-9)

    def mark(self, time_h: float, collagen_um3: float, matrix_um3: float, front_um: np.ndarray) -> None:
        self.marks = [*self.marks[-1:], (time_h, collagen_um3, matrix_um3, front_um.copy())]
        self._dynamic = None

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays = {f"front_{i}": m[3] for i, m in enumerate(self.marks)}
        return arrays, {"marks": [list(m[:3]) for m in self.marks]}

    def restore(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        self.marks = [(*values, arrays[f"front_{i}"]) for i, values in enumerate(meta.get("marks", []))]
        self._dynamic = None

    def dynamic(self, n_pixels: int) -> dict[str, float]:
        """The dynamic indices and marker proxies between the two marks (empty until there are two), on a slice
        of ``n_pixels``."""
        if self._dynamic is not None and self._dynamic[0] == n_pixels:
            return self._dynamic[1]
        row = {"mar_um_per_d": np.nan, "ms_bs": np.nan, "bfr_bs_um3_per_um2_per_d": np.nan,
               "ctx_um3_per_d": np.nan, "p1np_um3_per_d": np.nan}
        if len(self.marks) == 2:
            (t0, collagen0, matrix0, front0), (t1, collagen1, matrix1, front1) = self.marks
            days = (t1 - t0) / HOURS_PER_DAY
            gained = front1 - front0  # the front's advance: what lies between two labels
            mineralising = gained > 1e-9
            row.update({
                "ctx_um3_per_d": (collagen1 - collagen0) / days,
                "p1np_um3_per_d": (matrix1 - matrix0) / days,
                "ms_bs": float(mineralising.sum() / n_pixels),
                "mar_um_per_d": float(gained[mineralising].mean() / days) if mineralising.any() else 0.0,
                "bfr_bs_um3_per_um2_per_d": float(gained.sum() / n_pixels / days),
            })
        self._dynamic = (n_pixels, row)
        return row


def indices(mineral_depth_um: np.ndarray, formed_um: np.ndarray | None, osteoid_um: np.ndarray | None,
            marks: DailyMarks, pixel_area_um2: float, n_osteoclasts: int, n_osteoblasts: int) -> dict[str, float]:
    """The timeseries' histomorphometry and marker columns (``formed_um`` and ``osteoid_um`` None: no new bone)."""
    n_pixels = mineral_depth_um.size
    bone_surface_mm2 = n_pixels * pixel_area_um2 / UM2_PER_MM2
    if formed_um is None:  # a slice nothing has been laid on: every cavity is eroded surface
        eroded_pixels = np.count_nonzero(mineral_depth_um > RESORBED_DEPTH_UM)
        osteoid_pixels, osteoid_thickness = 0, np.nan
    else:
        osteoid = osteoid_um > 0
        eroded_pixels = np.count_nonzero((mineral_depth_um - formed_um > RESORBED_DEPTH_UM) & ~osteoid)
        osteoid_pixels = np.count_nonzero(osteoid)
        osteoid_thickness = float(osteoid_um[osteoid].mean()) if osteoid_pixels else np.nan
    row = {
        "es_bs": eroded_pixels / n_pixels,
        "os_bs": osteoid_pixels / n_pixels,
        "o_th_um": osteoid_thickness,
        "n_oc_bs_per_mm2": n_osteoclasts / bone_surface_mm2,
        "n_ob_bs_per_mm2": n_osteoblasts / bone_surface_mm2,
        **marks.dynamic(n_pixels),
    }
    return row
