"""Drawing a spatial frame (``boneabm.snapshots.Frame``) with matplotlib: one map layer with its colour bar and
unit, the resorbed areas outlined, and the cells on top, each lineage in its own style. ``boneabm plot`` and
``animate`` draw through ``SurfaceView``; the app's pages are drawn by the browser (``boneabm.app.frames``).

A view is built once and updated per frame (new image data and cell offsets, not new axes), so a movie of
hundreds of frames does not lay its axes out again for each.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # files and a web page; never a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from scipy import ndimage  # noqa: E402

from boneabm.cells.osteoblast import drawing as osteoblast_drawing  # noqa: E402
from boneabm.cells.osteoclast import drawing as osteoclast_drawing  # noqa: E402
from boneabm.draw_style import LineageStyle  # noqa: E402
from boneabm.environment.bone import RESORBED_DEPTH_UM, TRENCH  # noqa: E402 - outlined as the metrics count
from boneabm.snapshots import EVENT_MAP  # noqa: E402

OUTLINE_RGBA = (0, 230, 255, 255)  # cyan: apart from every colour map used
TRENCH_OUTLINE_RGBA = (255, 40, 200, 255)  # magenta: a trench's edge, apart from a pit's and every colour map
EDGES = ((OUTLINE_RGBA, f"edge of a pit (resorbed > {RESORBED_DEPTH_UM} µm)"),
         (TRENCH_OUTLINE_RGBA, "edge of a trench"))  # as the legends name them
# a lineage's stages from this one on (the later, rarer, larger) are outlined: outlining thousands of precursors
# doubles the cost of a frame
FIRST_OUTLINED_STAGE = 2

# every lineage's drawing, by the name its cells carry in a snapshot's ``lineage`` column
LINEAGE_STYLES: dict[str, LineageStyle] = {"osteoblast": osteoblast_drawing.STYLE,
                                           "osteoclast": osteoclast_drawing.STYLE}


@dataclass(frozen=True)
class Layer:
    label: str
    unit: str
    cmap: str
    per_pixel: bool  # a bone map (per pixel), else a field map (per site)


LAYERS = {
    "mineral_depth_um": Layer("resorbed depth (mineral)", "µm", "magma", True),
    "collagen_depth_um": Layer("collagen removed", "µm", "cividis", True),
    "mcsf_ng_ml": Layer("M-CSF", "ng/mL", "Greens", False),
    "rankl_free_ng_ml": Layer("free RANKL", "ng/mL", "Blues", False),
    "opg_free_ng_ml": Layer("free OPG", "ng/mL", "Purples", False),
    "antibody_free_ng_ml": Layer("free anti-RANKL antibody", "ng/mL", "Oranges", False),
}


def style_of(lineage: str) -> LineageStyle:
    try:
        return LINEAGE_STYLES[lineage]
    except KeyError:
        raise ValueError(f"no drawing registered for the lineage {lineage!r} (boneabm/draw.py LINEAGE_STYLES)") \
            from None


def layer_limits(values: np.ndarray) -> tuple[float, float]:
    """A colour range that shows a flat map as flat (not noise stretched over the whole scale)."""
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if high - low <= 1e-6 * max(abs(high), 1e-12):
        return (0.0, high * 1.05) if high > 0 else (0.0, 1.0)
    return low, high


def outlined(rgba: np.ndarray, depth: np.ndarray, events: np.ndarray | None = None) -> np.ndarray:
    """``rgba`` (a layer's image) with the edges of the resorbed areas of ``depth`` over it: the pixels
    resorbed with an unresorbed 4-neighbour, a trench's (``events``, on depth's grid) magenta, a pit's cyan
    (every event's, without ``events``: snapshots from before the map was recorded). An image on a coarser grid
    (a field layer, per site, under the bone's map, per pixel) is repeated onto depth's first."""
    resorbed = depth > RESORBED_DEPTH_UM
    if not resorbed.any():
        return rgba
    edge = resorbed & ~ndimage.binary_erosion(resorbed, border_value=1)
    if edge.shape != rgba.shape[:2]:
        repeat = edge.shape[0] // rgba.shape[0]
        rgba = rgba.repeat(repeat, axis=0).repeat(repeat, axis=1)
    rgba[edge] = OUTLINE_RGBA
    if events is not None:
        rgba[edge & (events == TRENCH)] = TRENCH_OUTLINE_RGBA
    return rgba


def frame_title(frame) -> str:
    cells = frame.cells
    n_osteoclasts = int((cells["state"].astype(str) == "osteoclast").sum())
    return f"{frame.time_h / 24:.2f} d ({frame.time_h:g} h): {len(cells):,} cells, {n_osteoclasts} osteoclasts"


class SurfaceView:
    """One axes: a map layer, the resorbed areas outlined, every cell as a disk of its drawn size."""

    def __init__(self, ax, frame, layer: str = "mineral_depth_um", site_um: float = 25.0,
                 vmax: float | None = None, legend: bool = True):
        if layer not in LAYERS:
            raise ValueError(f"layer {layer!r}: one of {', '.join(LAYERS)}")
        self.ax, self.layer, self.site_um = ax, layer, site_um
        self.fixed_scale = vmax is not None  # else the colour range follows each frame (a live view)
        self.width_um, self.height_um = frame.width_um, frame.height_um
        info = LAYERS[layer]
        low, high = layer_limits(frame.maps[layer])
        self.scale = ScalarMappable(Normalize(low if vmax is None else 0.0, high if vmax is None else vmax),
                                    info.cmap)
        # the map and the outline of the resorbed areas composited into one RGBA image: one image to draw per
        # frame (a contour of a 500 x 500 map costs as much as the map)
        self.image = ax.imshow(np.zeros((1, 1, 4), np.uint8), origin="lower", interpolation="nearest",
                               extent=(0, frame.width_um, 0, frame.height_um))
        self.colourbar = ax.figure.colorbar(self.scale, ax=ax, shrink=0.85, label=f"{info.label} ({info.unit})")
        ax.set(xlim=(0, frame.width_um), ylim=(0, frame.height_um), aspect="equal", xlabel="x (µm)",
               ylabel="y (µm)")
        self.cells = {}  # (lineage, state) -> PathCollection
        for lineage, style in LINEAGE_STYLES.items():
            for i, state in enumerate(style.colours):
                self.cells[lineage, state] = ax.scatter(
                    [], [], s=[], c=style.colours[state], edgecolors="black",
                    linewidths=0.3 if i >= FIRST_OUTLINED_STAGE else 0.0, alpha=0.85, zorder=3)
        if legend:
            handles = [Line2D([], [], ls="", marker="o", color=style.colours[state], label=label)
                       for style in LINEAGE_STYLES.values() for state, label in style.labels.items()]
            handles += [Line2D([], [], color=np.array(rgba[:3]) / 255, label=label) for rgba, label in EDGES]
            ax.legend(handles=handles, fontsize=6, loc="upper left", bbox_to_anchor=(0, -0.12), ncol=3,
                      frameon=False)
        self.update(frame)

    def _points_per_um(self) -> float:
        fig = self.ax.figure
        width_in = self.ax.get_position().width * fig.get_figwidth()
        return width_in * 72.0 / self.width_um

    def update(self, frame, title: str | None = None) -> None:
        values = frame.maps[self.layer]
        if not self.fixed_scale:
            self.scale.norm.vmin, self.scale.norm.vmax = layer_limits(values)
        events = frame.maps.get(EVENT_MAP)
        rgba = outlined(self.scale.to_rgba(values.T, bytes=True), frame.maps["mineral_depth_um"].T,
                        None if events is None else events.T)
        self.image.set_data(rgba)
        points_per_um = self._points_per_um()
        cells = frame.cells
        lineages = cells["lineage"].astype(str).to_numpy()
        states = cells["state"].astype(str).to_numpy()
        x, y, nuclei = cells["x_um"].to_numpy(), cells["y_um"].to_numpy(), cells["nuclei"].to_numpy()
        for (lineage, state), collection in self.cells.items():
            mask = (lineages == lineage) & (states == state)
            diameter_pt = LINEAGE_STYLES[lineage].diameter_um(nuclei[mask], self.site_um) * points_per_um
            sizes = np.maximum(diameter_pt, 1.5) ** 2  # a point at least: a big dish stays visible
            collection.set_offsets(np.column_stack([x[mask], y[mask]]))
            # one size for all (mononuclear stages) is drawn as one stamped marker: several times faster
            collection.set_sizes(sizes[:1] if sizes.size and (sizes == sizes[0]).all() else sizes)
        self.ax.set_title(frame_title(frame) if title is None else title, fontsize=9)


def surface_figure(frame, layer: str = "mineral_depth_um", site_um: float = 25.0, size_in: float = 5.5,
                   vmax: float | None = None, dpi: float = 100) -> tuple[Figure, SurfaceView]:
    """A figure holding one ``SurfaceView`` (not registered with pyplot: nothing leaks across frames)."""
    fig = Figure(figsize=(size_in, size_in * 1.05), layout="constrained", dpi=dpi)
    FigureCanvasAgg(fig)  # drawn off screen, into pixels
    ax = fig.add_subplot()
    view = SurfaceView(ax, frame, layer, site_um, vmax)
    freeze_layout(fig)
    view.update(frame)  # again, laid out: the cells' drawn size follows the axes' final width
    return fig, view


def freeze_layout(fig) -> None:
    """Lay the figure out once and keep it: frames only change data, and laying out again costs more than
    drawing them."""
    fig.canvas.draw()
    fig.set_layout_engine("none")


def close(fig) -> None:
    plt.close(fig)
