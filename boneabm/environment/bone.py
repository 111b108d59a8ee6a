"""The resorbable bone slice under the cells: depth maps of removed mineral and collagen, and pit metrics.

The slice is a grid of square pixels, ``pixels_per_site`` to a side of each cell-grid site. Each pixel records
how deep its mineral has been removed (demineralisation) and how deep its collagen has been removed
(cathepsin K); collagen cannot go deeper than mineral, so a cathepsin K-deficient osteoclast leaves
demineralised collagen behind (Saftig 1998). Cathepsin K digests the collagen the acid has bared at a rate that
saturates with how much is bared, so even a wild-type osteoclast leaves a thin fringe where it moves on: the
remnants reversal cells clear (``reversal.py``) before they lay a cement line, and osteoblasts lay osteoid only
on a complete one. Resorption spreads an osteoclast's volume over its footprint, a disk of pixels, leaving out
pixels a lining cell covers or new matrix protects (osteoclasts resorb mineralised bone only, and the maps hold
one cycle); every µm³ removed is booked to the osteoclast that removed it.

Metrics: resorbed volume and area, the number of resorption events (connected resorbed areas, 8-connected,
joined across the edges of a periodic slice) and among them trenches (length ≥ ``trench_elongation`` × width,
from the area's second moments) and pits, mean and maximum depth.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import numba as nb
import numpy as np
from scipy import ndimage

from boneabm.config import BoneConfig, DomainConfig
from boneabm.environment.formation import Mineralisation, NewBone
from boneabm.environment.histomorphometry import RESORBED_DEPTH_UM, DailyMarks, indices
from boneabm.environment.matrix import active_molecules_per_um3
from boneabm.environment.reversal import cemented_sites, prepare_sites

PIT, TRENCH = 1, 2  # the kinds of resorption event in ``Bone.event_map`` (0: not resorbed)


def _nothing_removed() -> np.ndarray:
    return np.zeros(2)


class Bone:
    def __init__(self, config: BoneConfig, domain: DomainConfig):
        self.config = config
        self.pixel_um = domain.grid_spacing_um / config.pixels_per_site
        self.shape = (domain.shape[0] * config.pixels_per_site, domain.shape[1] * config.pixels_per_site)
        self.periodic = domain.periodic
        self.mineral_depth_um = np.zeros(self.shape)
        self.collagen_depth_um = np.zeros(self.shape)
        self.cement_um = np.zeros(self.shape)  # cement line laid by reversal cells since the pixel's last resorption
        self.resorbed_h = np.full(self.shape, np.nan)  # when each pixel last lost mineral (NaN: never)
        self.removed_by = defaultdict(_nothing_removed)  # osteoclast id -> (mineral, collagen) µm³
        self.factors_per_um3 = active_molecules_per_um3(config.matrix)
        # this tick's (site x, site y, collagen µm³) of each resorbing osteoclast
        self._freed: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.new_bone: NewBone | None = None  # the matrix osteoblasts laid down, from their first secretion on
        self.mineralisation = Mineralisation.of(config.mineralisation)
        self.daily = DailyMarks()  # totals at the last two whole days, for the dynamic indices
        # pixels under a lining cell, which no osteoclast can reach (derived each tick from where they are): a new
        # array each time (``cover``), never written in place, as ``bare_sites`` keeps its sites for the array
        self.covered_px = np.zeros(self.shape, dtype=np.bool_)
        # ``bare_sites`` of the map of protected pixels ``_bare_of`` (the lining cells' own array, replaced whenever
        # they move, where no new matrix protects bone too; a new array at each call otherwise)
        self._bare_of: np.ndarray | None = None
        self._bare: np.ndarray | None = None

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        ids = np.array(sorted(self.removed_by), dtype=np.int64)
        removed = np.array([self.removed_by[i] for i in ids.tolist()], dtype=np.float64).reshape(-1, 2)
        arrays = {name: getattr(self, name).copy() for name in self._MAPS}
        arrays.update({"removed_by_id": ids, "removed_um3": removed})
        daily_arrays, daily_meta = self.daily.state()
        arrays.update({f"daily/{name}": values for name, values in daily_arrays.items()})
        if self.new_bone is None:
            return arrays, {"daily": daily_meta}
        new_arrays, new_meta = self.new_bone.state()
        return ({**arrays, **{f"new_bone/{name}": values for name, values in new_arrays.items()}},
                {"new_bone": new_meta, "daily": daily_meta})

    _MAPS = ("mineral_depth_um", "collagen_depth_um", "cement_um", "resorbed_h")

    def restore(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        for name in self._MAPS:
            if arrays[name].shape != self.shape:
                raise ValueError(f"bone.{name}: shape {arrays[name].shape}, the slice is {self.shape}")
            setattr(self, name, arrays[name].astype(np.float64, copy=False))  # state() copied already
        self.removed_by = defaultdict(_nothing_removed, {
            int(i): amounts.copy() for i, amounts in zip(arrays["removed_by_id"], arrays["removed_um3"])})
        self.daily.restore({name.removeprefix("daily/"): values for name, values in arrays.items()
                            if name.startswith("daily/")}, meta.get("daily", {}))
        self.new_bone = None if "new_bone" not in meta else NewBone.from_state(
            {name.removeprefix("new_bone/"): values for name, values in arrays.items() if name.startswith("new_bone/")},
            meta["new_bone"], self.mineralisation)

    @property
    def pixel_area_um2(self) -> float:
        return self.pixel_um**2

    def footprint(self, x_um: float, y_um: float, radius_um: float) -> tuple[np.ndarray, np.ndarray]:
        """Pixel indices of a disk (at least the pixel under the centre)."""
        return _disk(x_um / self.pixel_um, y_um / self.pixel_um, radius_um / self.pixel_um, self.shape[0],
                     self.shape[1], self.periodic)

    def bare_share(self, x_um, y_um, radius_um) -> np.ndarray:
        """The share of each footprint's pixels that no lining cell or new matrix protects (``protected_px``):
        the part of the disk an osteoclast can seal on. 1.0 exactly where nothing is protected."""
        return _bare_shares(self.protected_px(), np.asarray(x_um, np.float64) / self.pixel_um,
                            np.asarray(y_um, np.float64) / self.pixel_um,
                            np.asarray(radius_um, np.float64) / self.pixel_um, self.periodic)

    def resorb(self, osteoclast_id: int, x_um: float, y_um: float, radius_um: float, mineral_um3: float,
               collagen_um3: float, fringe_half_um: float = 0.0, time_h: float = np.nan) -> tuple[float, float]:
        """Remove up to ``mineral_um3`` of mineral, then up to ``collagen_um3`` of collagen, evenly under the
        footprint; collagen only where mineral is already gone. Returns what was removed (µm³)."""
        removed = self.resorb_many(*(np.array([v]) for v in (osteoclast_id, x_um, y_um, radius_um, mineral_um3,
                                                               collagen_um3)), fringe_half_um, time_h)
        return float(removed[0, 0]), float(removed[0, 1])

    def cover(self, covered_sites: np.ndarray) -> None:
        """The sites whose bone lining cells cover now: an osteoclast seals onto bare bone only, so its footprint
        there holds no pixel under them (Everts et al. 2002 JBMR 17:77: lining cells keep osteoclasts off
        quiescent bone until they retract)."""
        p = self.config.pixels_per_site
        self.covered_px = np.repeat(np.repeat(covered_sites, p, axis=0), p, axis=1)

    def resorb_many(self, osteoclast_ids, x_um, y_um, radius_um, mineral_um3, collagen_um3,
                    fringe_half_um: float = 0.0, time_h: float = np.nan) -> np.ndarray:
        """``resorb`` for several osteoclasts, one after the other in the order given (overlapping footprints
        share what is left); returns the (mineral, collagen) µm³ each removed. A footprint leaves out covered
        pixels (``cover``) and pixels under new matrix (``protected_px``): the osteoclast's volume goes into the
        bare ones. Collagen digestion saturates with the collagen bared, half its capacity at ``fringe_half_um``
        (0: it keeps up with the acid); a resorbed pixel loses its cement line and notes ``time_h``."""
        removed = _resorb_disks(self.mineral_depth_um, self.collagen_depth_um, self.cement_um, self.resorbed_h,
                                self.protected_px(), np.asarray(x_um, np.float64) / self.pixel_um,
                                np.asarray(y_um, np.float64) / self.pixel_um,
                                np.asarray(radius_um, np.float64) / self.pixel_um,
                                np.asarray(mineral_um3, np.float64), np.asarray(collagen_um3, np.float64),
                                float(fringe_half_um), float(time_h), self.config.thickness_um, self.pixel_area_um2,
                                self.periodic)
        for osteoclast_id, amounts in zip(np.asarray(osteoclast_ids).tolist(), removed):
            self.removed_by[osteoclast_id] += amounts
        site_um = self.pixel_um * self.config.pixels_per_site
        self._freed.append((np.asarray(x_um, np.float64) // site_um, np.asarray(y_um, np.float64) // site_um,
                            removed[:, 1]))
        return removed

    def protected_px(self) -> np.ndarray:
        """Pixels no osteoclast can resorb: under a lining cell, or under new matrix. Osteoid protects the bone
        beneath (osteoclasts resorb mineralised bone only); the new bone it mineralises into is not resorbed
        either, because the depth maps hold one cycle: resorbing it would have to remove it before the old bone
        beneath, which they cannot represent."""
        if self.new_bone is None:
            return self.covered_px
        return self.covered_px | (self.new_bone.formed_um > 0)

    def bare_sites(self) -> np.ndarray:
        """Sites with at least one pixel of bare, resorbable bone: where an osteoclast can seal on."""
        # called every tick: numpy's all() over the two pixel axes took a millisecond on the default slice, while
        # a site's scan can stop at its first bare pixel (the first one, on a culture's uncovered slice); and
        # found again only for another map of protected pixels (a culture's never changes: ≈ 70 µs a tick saved)
        protected = self.protected_px()
        if protected is not self._bare_of:
            self._bare_of, self._bare = protected, _any_false_per_site(protected, self.config.pixels_per_site)
        return self._bare

    def prepare(self, x_sites: np.ndarray, y_sites: np.ndarray, clear_um3: float, cement_um3: float,
                cement_line_um: float) -> float:
        """Reversal cells at the given sites clear remnants and lay cement (``reversal.prepare_sites``);
        returns the remnants cleared, µm³."""
        return prepare_sites(self.mineral_depth_um, self.collagen_depth_um, self.cement_um,
                             np.asarray(x_sites, np.int64), np.asarray(y_sites, np.int64), self.config.pixels_per_site,
                             float(clear_um3), float(cement_um3), float(cement_line_um), self.pixel_area_um2)

    def cemented_sites(self, cement_line_um: float) -> np.ndarray:
        """Sites ready for osteoid: a complete cement line under every pixel."""
        return cemented_sites(self.cement_um, self.config.pixels_per_site, cement_line_um)

    def cavity_sites(self) -> np.ndarray:
        """Sites eroded (site mean deeper than ``RESORBED_DEPTH_UM``) that no new matrix has reached yet: the
        surface that waits for resorption to end and for reversal and formation to begin."""
        return ((self.site_mean(self.mineral_depth_um) > RESORBED_DEPTH_UM)
                & (self.site_mean(self.formed_depth_um()) == 0))

    def remnant_um(self) -> np.ndarray:
        """Demineralised collagen left per pixel, µm: what reversal cells have yet to clear."""
        return self.mineral_depth_um - self.collagen_depth_um

    def site_mean(self, pixels: np.ndarray) -> np.ndarray:
        """The mean of a pixel map over each grid site's pixels."""
        p = self.config.pixels_per_site
        return pixels.reshape(self.shape[0] // p, p, self.shape[1] // p, p).mean(axis=(1, 3))

    def mark_day(self, time_h: float) -> None:
        """At the first tick of each day, the totals the dynamic indices difference (a no-op otherwise)."""
        if self.daily.due(time_h):
            if self.new_bone is not None:
                self.new_bone.advance(time_h)
            self.daily.mark(time_h, float(self.collagen_depth_um.sum() * self.pixel_area_um2),
                            self.formed_um3(), self.front_um())  # once a day: a copy of the map is cheap

    def formed_um3(self) -> float:
        return float(self.new_bone.formed_um.sum() * self.pixel_area_um2) if self.new_bone is not None else 0.0

    def front_um(self) -> np.ndarray:
        """Depth of the new bone's mineralisation front per pixel, µm (``NewBone.front_um``)."""
        return self.new_bone.front_um if self.new_bone is not None else np.zeros(self.shape)

    def histomorphometry(self, time_h: float, n_osteoclasts: int, n_osteoblasts: int) -> dict[str, float]:
        """The timeseries' histomorphometry and marker columns (``histomorphometry.indices``) at ``time_h``."""
        if self.new_bone is None:
            return indices(self.mineral_depth_um, None, None, self.daily, self.pixel_area_um2, n_osteoclasts,
                           n_osteoblasts)
        self.new_bone.advance(time_h)
        return indices(self.mineral_depth_um, self.new_bone.formed_um, self.new_bone.osteoid_um, self.daily,
                       self.pixel_area_um2, n_osteoclasts, n_osteoblasts)

    def formed_depth_um(self) -> np.ndarray:
        """Matrix laid down per pixel, µm (0 where none): what refills the eroded depth."""
        return self.new_bone.formed_um if self.new_bone is not None else np.zeros(self.shape)

    def form(self, time_h: float, x_site: np.ndarray, y_site: np.ndarray, volume_um3: np.ndarray) -> None:
        """Matrix laid down at time ``time_h``: each volume spread evenly over the pixels of its grid site."""
        if self.new_bone is None:
            self.new_bone = NewBone(self.shape, self.mineralisation, start_h=time_h)
        self.new_bone.advance(time_h)
        p = self.config.pixels_per_site
        offsets = np.arange(p)
        ix = (np.asarray(x_site)[:, None, None] * p + offsets[None, :, None]).repeat(p, axis=2)
        iy = (np.asarray(y_site)[:, None, None] * p + offsets[None, None, :]).repeat(p, axis=1)
        thickness = np.repeat(np.asarray(volume_um3, np.float64) / (p * p * self.pixel_area_um2), p * p)
        self.new_bone.deposit(ix.ravel(), iy.ravel(), thickness)

    def take_freed_factors(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """The growth factors the matrix degraded since the last call freed, active, by field, and the sites
        (x, y) of the osteoclasts that freed them: collagen removed × the matrix's content (``matrix.py``)."""
        if not self._freed:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, {name: np.zeros(0) for name in self.factors_per_um3}
        x, y, collagen_um3 = (np.concatenate(parts) for parts in zip(*self._freed))
        self._freed = []
        return (x.astype(np.int64), y.astype(np.int64),
                {name: collagen_um3 * per_um3 for name, per_um3 in self.factors_per_um3.items()})

    def metrics(self) -> dict[str, float]:
        """Resorbed volume and area, pits and trenches, depths."""
        flat, event, ix, iy, n_events = self._resorbed_events()
        depths = self.mineral_depth_um.ravel()[flat]
        n_trenches = int(self._elongated(event, ix, iy, n_events).sum())
        return {
            "resorbed_volume_um3": float(self.mineral_depth_um.sum() * self.pixel_area_um2),
            "collagen_removed_um3": float(self.collagen_depth_um.sum() * self.pixel_area_um2),
            "resorbed_area_um2": float(flat.size * self.pixel_area_um2),
            "n_pits": int(n_events - n_trenches),
            "n_trenches": int(n_trenches),
            "mean_depth_um": float(depths.mean()) if depths.size else 0.0,
            "max_depth_um": float(depths.max()) if depths.size else 0.0,
        }

    def event_map(self) -> np.ndarray:
        """Per pixel, which kind of resorption event it belongs to, as ``metrics`` counts them: 0 none,
        ``PIT`` or ``TRENCH``."""
        return self.events()[0]

    def events(self) -> tuple[np.ndarray, int, int]:
        """``event_map`` with the pits and trenches it holds, from one labelling of the map."""
        flat, event, ix, iy, n_events = self._resorbed_events()
        trench = self._elongated(event, ix, iy, n_events)
        kinds = np.zeros(self.shape, dtype=np.uint8)
        kinds.ravel()[flat] = np.where(trench, TRENCH, PIT).astype(np.uint8)[event]
        n_trenches = int(trench.sum())
        return kinds, n_events - n_trenches, n_trenches

    def _resorbed_events(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """The resorbed pixels (flat index, in the map's order), each one's event (0..n-1: its connected area,
        8-connected, pieces that touch across a periodic edge joined) and coordinates (an event across a periodic
        edge, smaller than half the slice, with its far piece moved next to the rest), and n. Found from the
        resorbed pixels alone: relabelling the whole map and scanning it again took a third of a timeseries row
        on the default slice."""
        resorbed = self.mineral_depth_um > RESORBED_DEPTH_UM
        flat, ix, iy = self._pixels(resorbed)
        if flat.size == 0:  # nothing resorbed yet (a quarter of the assay's rows): no map to label
            return flat, np.zeros(0, dtype=np.int32), ix, iy, 0
        labels, n_events = ndimage.label(resorbed, structure=np.ones((3, 3)))
        event = labels.ravel()[flat]
        if self.periodic and n_events:
            event_of_piece, n_events = _events_of_pieces(labels, n_events)
            event = event_of_piece[event]
        event -= 1
        self._join_across_edges(event, ix, iy, n_events)
        return flat, event, ix, iy, n_events

    @staticmethod
    def _pixels(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The flat index and the coordinates of each True pixel of ``mask``, in ``np.nonzero``'s order: a flat
        index and its quotient and remainder cost a quarter of ``np.nonzero``'s two indices and what they index."""
        flat = np.flatnonzero(mask)
        ix, iy = np.divmod(flat, mask.shape[1])
        return flat, ix, iy

    def _elongated(self, event: np.ndarray, ix: np.ndarray, iy: np.ndarray, n_events: int) -> np.ndarray:
        """Whether each event (0..n-1, of the pixels at ``ix``, ``iy``, already joined across periodic edges) is
        at least ``trench_elongation`` times longer than wide. Events of a few pixels can sit exactly on the
        threshold (a pair of pixels is exactly twice as long as wide), where round-off would decide: those are
        settled in exact integer arithmetic."""
        elongation = _elongations(event, ix, iy, n_events)
        threshold = self.config.trench_elongation
        trench = elongation >= threshold
        for k in np.flatnonzero(np.abs(elongation - threshold) <= 1e-9 * threshold):
            trench[k] = _exactly_elongated(ix[event == k], iy[event == k], threshold)
        return trench

    def _join_across_edges(self, event: np.ndarray, ix: np.ndarray, iy: np.ndarray, n_events: int) -> None:
        """On a periodic slice, move the far piece of each event that touches both edges of an axis (one smaller
        than half the slice) next to the rest: ``ix`` and ``iy`` in place."""
        if self.periodic:
            for coordinate, size in zip((ix, iy), self.shape):
                both_edges = ((np.bincount(event[coordinate == 0], minlength=n_events) > 0)
                              & (np.bincount(event[coordinate == size - 1], minlength=n_events) > 0))
                coordinate[both_edges[event] & (coordinate < size // 2)] += size

    def depth_table(self) -> dict[str, np.ndarray]:
        """Resorbed or newly formed pixels in long format (pixel centres in µm)."""
        formed = self.formed_depth_um()
        ix, iy = np.nonzero((self.mineral_depth_um > 0) | (formed > 0))
        if self.new_bone is None:
            zeros = np.zeros(ix.size)
            osteoid, fraction, formed_h = zeros, zeros, np.full(ix.size, np.nan)
        else:
            osteoid = self.new_bone.osteoid_um[ix, iy]
            fraction = self.new_bone.mineral_fraction[ix, iy]
            formed_h = self.new_bone.formed_h[ix, iy]
        return {"x_um": (ix + 0.5) * self.pixel_um, "y_um": (iy + 0.5) * self.pixel_um,
                "mineral_depth_um": self.mineral_depth_um[ix, iy],
                "collagen_depth_um": self.collagen_depth_um[ix, iy],
                "formed_um": formed[ix, iy], "osteoid_um": osteoid, "mineral_fraction": fraction,
                "formed_h": formed_h, "cement_um": self.cement_um[ix, iy], "resorbed_h": self.resorbed_h[ix, iy]}


@nb.njit(cache=True)
def _disk(cx_px, cy_px, r_px, nx, ny, periodic):
    """Pixels whose centres lie within ``r_px`` of (cx_px, cy_px), in pixel units (at least the pixel under
    the centre); wrapped on a periodic slice, clipped otherwise."""
    r = max(r_px, 0.5)
    cx, cy = cx_px - 0.5, cy_px - 0.5
    reach = int(np.ceil(r))
    x0, y0 = np.round(cx), np.round(cy)
    ix = np.empty((2 * reach + 1) ** 2, dtype=np.int64)
    iy = np.empty_like(ix)
    n = 0
    for i in range(-reach, reach + 1):
        for j in range(-reach, reach + 1):
            dx, dy = i + x0, j + y0
            if (dx - cx) ** 2 + (dy - cy) ** 2 > r**2:
                continue
            px, py = int(dx), int(dy)
            if periodic:
                px, py = px % nx, py % ny
            elif px < 0 or px >= nx or py < 0 or py >= ny:
                continue
            ix[n], iy[n] = px, py
            n += 1
    return ix[:n], iy[:n]


@nb.njit(cache=True)
def _events_of_pieces(labels, n):
    """The event (1..m) of each piece 1..n of ``labels`` (0 for 0) on a periodic slice, and m: pieces that touch
    across an edge, diagonally too (first row against last, first column against last), are one event. Events
    are numbered by their lowest piece, as scipy's connected components number them."""
    root = np.arange(n + 1)

    def find(p):
        while root[p] != p:
            root[p] = root[root[p]]
            p = root[p]
        return p

    nx, ny = labels.shape
    for axis in range(2):
        size, across = (ny, nx) if axis == 0 else (nx, ny)
        for j in range(size):
            for shift in range(-1, 2):
                k = (j - shift) % size
                a = labels[0, j] if axis == 0 else labels[j, 0]
                b = labels[across - 1, k] if axis == 0 else labels[k, across - 1]
                if a > 0 and b > 0:
                    ra, rb = find(a), find(b)
                    if ra != rb:  # the lower piece roots the union
                        root[max(ra, rb)] = min(ra, rb)
    event = np.zeros(n + 1, dtype=np.int64)
    m = 0
    for p in range(1, n + 1):
        r = find(p)
        if r == p:
            m += 1
            event[p] = m
        else:
            event[p] = event[r]  # r < p: numbered already
    return event, m


@nb.njit(cache=True)
def _any_false_per_site(pixels, p):
    """Per grid site (``p`` × ``p`` pixels of ``pixels``), whether any of its pixels is False."""
    nx, ny = pixels.shape[0] // p, pixels.shape[1] // p
    out = np.zeros((nx, ny), dtype=np.bool_)
    for i in range(nx):
        for j in range(ny):
            for a in range(i * p, i * p + p):
                for b in range(j * p, j * p + p):
                    if not pixels[a, b]:
                        out[i, j] = True
                        break
                if out[i, j]:
                    break
    return out


@nb.njit(cache=True)
def _bare_shares(protected, cx_px, cy_px, r_px, periodic):
    nx, ny = protected.shape
    out = np.empty(cx_px.shape[0])
    for k in range(cx_px.shape[0]):
        ix, iy = _disk(cx_px[k], cy_px[k], r_px[k], nx, ny, periodic)
        bare = 0
        for p in range(ix.shape[0]):
            if not protected[ix[p], iy[p]]:
                bare += 1
        out[k] = bare / ix.shape[0] if ix.shape[0] else 0.0
    return out


@nb.njit(cache=True)
def _resorb_disks(mineral_depth, collagen_depth, cement, resorbed_h, covered, cx_px, cy_px, r_px, mineral_um3,
                  collagen_um3, fringe_half_um, time_h, thickness_um, pixel_area_um2, periodic):
    """Each osteoclast in turn deepens the uncovered pixels of its disk by its volume over their area: mineral
    up to the slice's thickness, collagen up to the mineral, digested at capacity × bared/(K + bared) with K =
    ``fringe_half_um``. Returns the (mineral, collagen) µm³ each removed."""
    nx, ny = mineral_depth.shape
    removed = np.zeros((cx_px.shape[0], 2))
    for k in range(cx_px.shape[0]):
        ix, iy = _disk(cx_px[k], cy_px[k], r_px[k], nx, ny, periodic)
        bare = np.zeros(ix.shape[0], dtype=np.bool_)
        for p in range(ix.shape[0]):
            bare[p] = not covered[ix[p], iy[p]]
        ix, iy = ix[bare], iy[bare]
        if ix.shape[0] == 0:
            continue
        area = ix.shape[0] * pixel_area_um2
        for p in range(ix.shape[0]):
            mineral = mineral_depth[ix[p], iy[p]]
            new_mineral = min(mineral + mineral_um3[k] / area, thickness_um)
            collagen = collagen_depth[ix[p], iy[p]]
            capacity = collagen_um3[k] / area
            if fringe_half_um > 0.0:
                bared = new_mineral - collagen
                new_collagen = collagen + min(capacity * bared / (fringe_half_um + bared), bared)
            else:
                new_collagen = min(collagen + capacity, new_mineral)
            if new_mineral > mineral:
                cement[ix[p], iy[p]] = 0.0
                resorbed_h[ix[p], iy[p]] = time_h
            mineral_depth[ix[p], iy[p]] = new_mineral
            collagen_depth[ix[p], iy[p]] = new_collagen
            removed[k, 0] += (new_mineral - mineral) * pixel_area_um2
            removed[k, 1] += (new_collagen - collagen) * pixel_area_um2
    return removed


def _elongations(event: np.ndarray, ix: np.ndarray, iy: np.ndarray, n_events: int) -> np.ndarray:
    """Length over width of each event: the square root of the ratio of the eigenvalues of its pixels'
    covariance, with each pixel's own extent (variance 1/12) added, so a row of n pixels scores n. One pass over
    the labelled pixels, so the cost grows with the resorbed area, not with events × map."""
    n, xx, yy, xy = _second_moment_sums(event, ix.astype(np.float64), iy.astype(np.float64), n_events)
    sxx = xx / n + 1 / 12
    syy = yy / n + 1 / 12
    sxy = xy / n
    half_sum, radius = (sxx + syy) / 2, np.hypot((sxx - syy) / 2, sxy)
    return np.sqrt((half_sum + radius) / (half_sum - radius))


@nb.njit(cache=True)
def _second_moment_sums(event, x, y, n_events):
    """Per event (0..n_events-1, of each pixel at ``x``, ``y``): its pixels (as a float) and the sums of dx², dy²
    and dx·dy about its mean. Exactly what numpy's bincounts gave (each bin summed in the pixels' order, each mean
    a sum over a count), in two compiled passes instead of six bincounts and their temporaries (≈ 0.3 ms a
    timeseries row late in the assay)."""
    n = np.zeros(n_events)
    sum_x = np.zeros(n_events)
    sum_y = np.zeros(n_events)
    for k in range(event.shape[0]):
        n[event[k]] += 1.0
        sum_x[event[k]] += x[k]
        sum_y[event[k]] += y[k]
    mean_x, mean_y = sum_x / n, sum_y / n
    xx = np.zeros(n_events)
    yy = np.zeros(n_events)
    xy = np.zeros(n_events)
    for k in range(event.shape[0]):
        dx = x[k] - mean_x[event[k]]
        dy = y[k] - mean_y[event[k]]
        xx[event[k]] += dx * dx
        yy[event[k]] += dy * dy
        xy[event[k]] += dx * dy
    return n, xx, yy, xy


def _exactly_elongated(ix: np.ndarray, iy: np.ndarray, threshold: float) -> bool:
    """``_elongations(...) >= threshold`` for one event, in integers. With 12·n² times the covariance plus
    n²·I = [[a, b], [b, c]] (integers) and t = threshold², λmax/λmin ≥ t is ((a-c)² + 4b²)(1+t)² ≥ (a+c)²(t-1)²."""
    n, sx, sy = len(ix), int(ix.sum()), int(iy.sum())
    a = 12 * (n * int((ix * ix).sum()) - sx * sx) + n * n
    c = 12 * (n * int((iy * iy).sum()) - sy * sy) + n * n
    b = 12 * (n * int((ix * iy).sum()) - sx * sy)
    t = Fraction(threshold) ** 2
    return ((a - c) ** 2 + 4 * b * b) * (1 + t) ** 2 >= (a + c) ** 2 * (t - 1) ** 2
