"""What the app's pages send the browser to draw (``canvas.py``): a frame's cells as packed coordinates, sizes and
colour groups, its map as RGBA pixels of reduced resolution, and the time series as packed columns. The browser
draws them; the server only packs numbers, so a frame costs the server milliseconds, not matplotlib's tens. Packed
arrays are bytes, which the widgets send as binary websocket frames beside the JSON (the browser reads them as
typed arrays; base64 cost both sides a copy and a decode per array)."""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numba as nb
import numpy as np
import pandas as pd

from boneabm.draw import (EDGES, FIRST_OUTLINED_STAGE, LAYERS, LINEAGE_STYLES, OUTLINE_RGBA, TRENCH_OUTLINE_RGBA,
                          frame_title, layer_limits)
from boneabm.environment.bone import RESORBED_DEPTH_UM, TRENCH
from boneabm.plot import FACTORS, POPULATION
from boneabm.snapshots import EVENT_MAP

MAP_MAX_PX = 250  # a map's longest side as sent: over half the 440 px it is shown at (each pixel drawn square)
GRADIENT_STOPS = 11  # of the colour bar, as a CSS gradient
NO_MAP = {"key": "", "rgba": None, "width": 0, "height": 0}  # what a view shows before its first map


def packed(values: np.ndarray, dtype=np.float32) -> bytes:
    """An array as its little-endian bytes: sent as a binary buffer, read by the browser into a typed array
    (JSON numbers for 10,000 cells would cost the server more than the rest of the frame)."""
    return np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()


def message(value) -> tuple[object, list[bytes]]:
    """``value`` (dicts and lists of JSON values and bytes) as a custom widget message: the JSON with each bytes
    replaced by ``{"__buffer__": i}``, and the buffers, sent as binary websocket frames (the canvases' ``unpacked``
    puts them back)."""
    buffers: list[bytes] = []

    def pulled(item):
        if isinstance(item, bytes):
            buffers.append(item)
            return {"__buffer__": len(buffers) - 1}
        if isinstance(item, dict):
            return {key: pulled(v) for key, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [pulled(v) for v in item]
        return item

    return pulled(value), buffers


def _palette() -> list[dict]:
    """Every drawn group of cells (lineage, state) in drawing order, with its colour and whether it is outlined
    (as ``draw.SurfaceView`` draws them)."""
    return [{"lineage": lineage, "state": state, "colour": colour, "outlined": i >= FIRST_OUTLINED_STAGE,
             "label": style.labels[state]}
            for lineage, style in LINEAGE_STYLES.items() for i, (state, colour) in enumerate(style.colours.items())]


PALETTE = _palette()
_GROUP = {(entry["lineage"], entry["state"]): i for i, entry in enumerate(PALETTE)}
_LINEAGE_OF_GROUP = np.array([entry["lineage"] for entry in PALETTE])


def _drawing_groups(cells) -> np.ndarray:
    """Each cell's index in ``PALETTE``, from the codes of its lineage and state as categories: comparing
    every cell's strings to every group's cost the live page more than the rest of packing a frame."""
    lineages, states = (pd.Categorical(cells[column]) for column in ("lineage", "state"))
    # a last row and column for a code of -1 (a missing value), which indexes them
    lookup = np.full((len(lineages.categories) + 1, len(states.categories) + 1), -1, dtype=np.int64)
    for i, lineage in enumerate(lineages.categories):
        for j, state in enumerate(states.categories):
            lookup[i, j] = _GROUP.get((lineage, state), -1)
    group = lookup[lineages.codes, states.codes]
    if (group < 0).any():
        unknown = sorted({(str(a), str(b)) for a, b in zip(np.asarray(lineages)[group < 0],
                                                            np.asarray(states)[group < 0])})
        raise ValueError(f"no drawing registered for the cells {unknown} (boneabm/draw.py LINEAGE_STYLES)")
    return group


def cells_payload(cells, site_um: float) -> dict:
    """The cells (a snapshot's cells table) sorted into their drawing groups: x, y and the drawn radius (µm),
    packed, and how many cells each group of ``PALETTE`` holds, in order."""
    group = _drawing_groups(cells)
    radius_um = np.empty(group.size)
    for lineage, style in LINEAGE_STYLES.items():
        mine = _LINEAGE_OF_GROUP[group] == lineage
        radius_um[mine] = style.diameter_um(cells["nuclei"].to_numpy()[mine], site_um) / 2.0
    return _grouped(group, cells["x_um"].to_numpy(), cells["y_um"].to_numpy(), radius_um)


def parts_payload(parts, spacing_um: float, site_um: float) -> dict:
    """``cells_payload`` of the cells table ``snapshots.cells_table`` would build of ``parts``
    (``snapshots.lineage_cells``), the same bytes, read from the parts' arrays: building the table (a data frame
    with categories of strings) took the live page half its packing."""
    groups, x_um, y_um, radius_um = [], [], [], []
    for name, _, x, y, states in parts:
        style, state = LINEAGE_STYLES.get(name), np.asarray(states["state"])
        group = np.full(state.size, -1, dtype=np.int64)
        for known in (style.colours if style is not None else ()):
            group[state == known] = _GROUP[name, known]
        if (group < 0).any():
            raise ValueError(f"no drawing registered for the cells {sorted({(name, str(s)) for s in state[group < 0]})} "
                             "(boneabm/draw.py LINEAGE_STYLES)")
        groups.append(group)
        x_um.append((x + 0.5) * spacing_um)  # a site's centre, as the cells table has it
        y_um.append((y + 0.5) * spacing_um)
        radius_um.append(style.diameter_um(np.asarray(states["nuclei"], dtype=np.int64), site_um) / 2.0)
    if not groups:
        return _grouped(np.empty(0, dtype=np.int64), np.empty(0), np.empty(0), np.empty(0))
    return _grouped(*(np.concatenate(columns) for columns in (groups, x_um, y_um, radius_um)))


def _grouped(group: np.ndarray, x_um: np.ndarray, y_um: np.ndarray, radius_um: np.ndarray) -> dict:
    """The cells in the order of their drawing groups (stable), packed, and each group's count."""
    order = np.argsort(group, kind="stable")
    return {"x_um": packed(x_um[order]), "y_um": packed(y_um[order]), "radius_um": packed(radius_um[order]),
            "counts": np.bincount(group, minlength=len(PALETTE)).tolist(), "n": int(order.size)}


@lru_cache(maxsize=None)
def _lut(cmap: str) -> np.ndarray:
    """(evaluating a colour map took a live frame a millisecond; the few a page uses are kept)"""
    import matplotlib

    lut = matplotlib.colormaps[cmap](np.linspace(0.0, 1.0, 256), bytes=True)
    lut.flags.writeable = False
    return lut


def map_rgba(maps: dict[str, np.ndarray], layer: str, vmax: float | None = None) -> tuple[np.ndarray, float, float]:
    """The layer in its colour map with the edges of resorbed areas outlined (pits cyan, trenches magenta), at
    most ``MAP_MAX_PX`` on a side, as image rows from the top (the maps are indexed [x, y], y up); and the
    colour range (the frame's own, or 0 to ``vmax``). The bone maps are reduced k-fold on each axis, each block
    to its largest value, so that a pit of one pixel survives; a field map (per site) is taken at the nearest
    site."""
    if layer not in LAYERS:
        raise ValueError(f"layer {layer!r}: one of {', '.join(LAYERS)}")
    # in double precision, whatever the maps' type (a snapshot's are single), so the pass is compiled once
    depth = np.ascontiguousarray(maps["mineral_depth_um"], dtype=np.float64)
    values = depth if layer == "mineral_depth_um" else np.ascontiguousarray(maps[layer], dtype=np.float64)
    low, high = layer_limits(values) if vmax is None else (0.0, vmax)
    events = maps.get(EVENT_MAP)
    image = _map_image(values, 0 if layer == "mineral_depth_um" else 1 if LAYERS[layer].per_pixel else 2, depth,
                       np.ascontiguousarray(events if events is not None else np.zeros((0, 0)), dtype=np.uint8),
                       -(-max(depth.shape) // MAP_MAX_PX), float(low), 255.0 / (high - low), _lut(LAYERS[layer].cmap),
                       RESORBED_DEPTH_UM, np.array(OUTLINE_RGBA, np.uint8), np.array(TRENCH_OUTLINE_RGBA, np.uint8),
                       TRENCH)
    return image, low, high


@nb.njit(cache=True)
def _block_max_at(values, k, i, j):
    """The largest value of block (i, j) of ``values`` cut in k × k blocks; a block over the edge counts the
    missing pixels as zeros."""
    nx, ny = values.shape
    full = (i + 1) * k <= nx and (j + 1) * k <= ny
    best = values[i * k, j * k] if full else values.dtype.type(0)
    for x in range(i * k, min((i + 1) * k, nx)):
        for y in range(j * k, min((j + 1) * k, ny)):
            if values[x, y] > best:
                best = values[x, y]
    return best


@nb.njit(cache=True)
def _map_image(values, grid, depth, events, k, low, scale, lut, resorbed_um, edge_rgba, trench_rgba, trench):
    """(``map_rgba``'s pixels, in one pass over the maps: reducing, colouring and outlining them with numpy's
    whole-array steps took the live page 2 ms a frame) Each pixel of the reduced map: ``lut``'s colour at
    (value - low)·scale, clipped to 0-255 and truncated; the pixels resorbed (depth > ``resorbed_um``) with a
    4-neighbour that is not (the image's edge counting as resorbed) in ``edge_rgba``, or ``trench_rgba`` where
    ``events`` (if given) says ``trench``. ``grid``: 0 if ``values`` is ``depth``, 1 if another map of its
    pixels, 2 if a map of sites."""
    nx, ny = -(-depth.shape[0] // k), -(-depth.shape[1] // k)
    reduced = np.empty((nx, ny), dtype=depth.dtype)
    for i in range(nx):
        for j in range(ny):
            reduced[i, j] = _block_max_at(depth, k, i, j)
    image = np.empty((ny, nx, 4), dtype=np.uint8)  # rows are y, from the top
    for i in range(nx):
        for j in range(ny):
            row = ny - 1 - j
            if reduced[i, j] > resorbed_um and (
                    (i > 0 and not reduced[i - 1, j] > resorbed_um)
                    or (i < nx - 1 and not reduced[i + 1, j] > resorbed_um)
                    or (j > 0 and not reduced[i, j - 1] > resorbed_um)
                    or (j < ny - 1 and not reduced[i, j + 1] > resorbed_um)):
                trenched = events.shape[0] > 0 and _block_max_at(events, k, i, j) == trench
                image[row, i] = trench_rgba if trenched else edge_rgba
                continue
            if grid == 0:
                value = reduced[i, j]
            elif grid == 1:
                value = _block_max_at(values, k, i, j)
            else:  # a site's value on each pixel of the reduced grid
                value = values[i * values.shape[0] // nx, j * values.shape[1] // ny]
            level = (value - low) * scale
            image[row, i] = lut[0 if not level > 0 else (255 if level > 255 else int(level))]  # (NaN as 0)
    return image


class MapImages:
    """A view's map as RGBA pixels, coloured again only when what it shows changed (the depth map stays the same
    for hours at a time, and the browser is sent a map only when its key changes). The pixels are sent raw, not
    as a PNG: the websocket compresses them as much for less than encoding a PNG cost, and the browser draws them
    as they arrive, where a PNG's decoding finished later and took an animation frame of its own."""

    def __init__(self):
        self.inputs: tuple = ()
        self.sent, self.limits = NO_MAP, (0.0, 1.0)

    def _unchanged(self, inputs: tuple) -> bool:
        compared = {}  # a map shown on its own layer is two of the inputs: compared once

        def same(a, b) -> bool:
            if a is b:
                return True
            if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
                return not isinstance(a, np.ndarray) and a == b
            if (id(a), id(b)) not in compared:
                compared[id(a), id(b)] = np.array_equal(a, b)
            return compared[id(a), id(b)]

        return len(inputs) == len(self.inputs) and all(same(a, b) for a, b in zip(inputs, self.inputs))

    def image_of(self, maps: dict[str, np.ndarray], layer: str, vmax: float | None = None
                 ) -> tuple[dict, float, float]:
        """``{"key": a digest of the pixels, "rgba": the pixels' bytes, row by row from the top, "width": ...,
        "height": ...}`` (the same dict while the pixels are the same; the frame names the key, so the browser
        draws cells and map of one frame together) and the colour range (``map_rgba``)."""
        inputs = (layer, vmax, maps[layer], maps["mineral_depth_um"], maps.get(EVENT_MAP))
        if not self._unchanged(inputs):
            rgba, low, high = map_rgba(maps, layer, vmax)
            key = hashlib.blake2b(rgba.tobytes() + repr(rgba.shape).encode(), digest_size=12).hexdigest()
            if key != self.sent["key"]:
                self.sent = {"key": key, "rgba": rgba.tobytes(), "width": rgba.shape[1], "height": rgba.shape[0]}
            self.inputs, self.limits = inputs, (low, high)
        return self.sent, *self.limits


@lru_cache(maxsize=None)
def gradient(cmap: str) -> str:
    colours = _lut(cmap)[np.linspace(0, 255, GRADIENT_STOPS).astype(int)]
    return "linear-gradient(to right, " + ", ".join(f"rgb({r},{g},{b})" for r, g, b, _ in colours) + ")"


def surface_payload(frame, layer: str, site_um: float, images: MapImages, title: str | None = None,
                    vmax: float | None = None, cells: dict | None = None) -> tuple[dict, dict]:
    """What the browser draws of ``frame`` on ``layer``: the cells, the colour bar and title (one dict), and
    the map (``MapImages.image_of``: apart, as it is resent only when it changes). ``cells``: the frame's cells
    packed already (the live page's, ``parts_payload``); else ``cells_payload`` of its table."""
    image, low, high = images.image_of(frame.maps, layer, vmax)
    info = LAYERS[layer]
    drawn = {"time_h": float(frame.time_h), "width_um": float(frame.width_um), "height_um": float(frame.height_um),
             "map_key": image["key"], "title": frame_title(frame) if title is None else title,
             "cells": cells_payload(frame.cells, site_um) if cells is None else cells,
             "scale": {"label": f"{info.label} ({info.unit})", "low": low, "high": high,
                       "gradient": gradient(info.cmap)}}
    return drawn, image


def _legend() -> list[dict]:
    """What the surface's legend lists: each drawn group, then the two outlines."""
    return [*({"colour": entry["colour"], "label": entry["label"], "kind": "cell"} for entry in PALETTE),
            *({"colour": "rgb({},{},{})".format(*rgba[:3]), "label": label, "kind": "edge"} for rgba, label in EDGES)]


LEGEND = _legend()


def series_payload(columns: dict[str, np.ndarray], area_cm2: float, duration_h: float,
                   factor_max_ng_ml: float) -> dict:
    """The time series as the browser draws it: cells per cm² by stage (log axis, 1 to 10⁶) and the factors at
    the cells (linear, widened when a value passes the top), against the experiment's whole time in days.
    ``columns``: a timeseries table's columns (``time_h`` and those of ``POPULATION`` and ``FACTORS`` it has).
    The time shown is marked apart (``SeriesCanvas``'s ``now_d``): a replay's slider moves it alone."""
    days = np.asarray(columns["time_h"], dtype=float) / 24.0
    lines = [{"label": label, "colour": colour, "axis": "cells",
              "values": packed(np.asarray(columns[column], dtype=float) / area_cm2)}
             for column, label, colour in POPULATION if column in columns]
    highest = max(factor_max_ng_ml, 1.0)
    for column, label, colour in FACTORS:
        if column in columns:
            values = np.asarray(columns[column], dtype=float)
            highest = max(highest, float(np.nanmax(values, initial=0.0)))
            lines.append({"label": label, "colour": colour, "axis": "factors", "values": packed(values)})
    return {"days": packed(days), "n": int(days.size), "duration_d": duration_h / 24.0,
            "factor_top": highest * 1.2, "lines": lines}
