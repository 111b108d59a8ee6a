"""Figures of a run directory (into ``RUN_DIR/figures/``) or of a sweep directory (``SWEEP_DIR/figures/``).

Each figure is written to a temporary name and moved into place, so only boneabm's own files are replaced and a
reader never sees half a PNG. Maps are drawn from the run's spatial snapshots (``boneabm.snapshots``) through
``boneabm.draw``, as the app and the movies draw them; a run without snapshots (made before them) is drawn from
cells.csv and bone.csv.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from boneabm.api import load_run  # noqa: E402
from boneabm.errors import UserError  # noqa: E402
from boneabm.files import write_atomically  # noqa: E402

FIGURES = ("population.png", "factors.png", "cells.png", "bone.png")
BMU_FIGURE = "bmu.png"  # a run with BMUs (osteocytes.activations) gets it too
# the surface's cells by type over a BMU's cycle: (timeseries column, label, colour)
BMU_CELLS = (("n_osteoclasts", "osteoclasts (≥ 3 nuclei)", "#9c1de7"), ("n_precursors", "osteoclast precursors",
             "#8c96a3"), ("n_osteoprogenitors", "osteoprogenitors", "#74c476"), ("n_osteoblasts",
             "osteoblasts (matrix-making)", "#238b45"), ("n_canopy_cells", "canopy cells", "#6baed6"))
SWEEP_FIGURE = "dose_response.png"
UM2_PER_CM2 = 1e8
# what a sweep's response is drawn for by default: the assay's readouts at the end, those the summary has
SWEEP_RESPONSES = ("n_osteoclasts_final", "resorbed_area_um2_final", "n_pits_final", "n_trenches_final")
POPULATION = (("n_precursors", "precursors", "#8c96a3"), ("n_trap_mononuclear", "committed (TRAP⁺) mononuclear",
              "#f2b701"), ("n_multinucleated", "multinucleated (≥ 2 nuclei)", "#e8590c"),
              ("n_osteoclasts", "osteoclasts (≥ 3 nuclei)", "#9c1de7"))
# the factors at the cells over time (timeseries column, label, colour), as the figures and the app draw them
FACTORS = (("mcsf_ng_ml", "M-CSF", "#2ca02c"), ("rankl_free_ng_ml", "free RANKL", "#1f77b4"),
           ("opg_free_ng_ml", "free OPG", "#7b4fa0"))
ANTIBODY = ("antibody_free_ng_ml", "free anti-RANKL antibody", "#d62728")  # drawn when dosed


def _save(fig, path: Path) -> None:
    image = io.BytesIO()
    fig.savefig(image, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    write_atomically(path, image.getvalue())


def is_sweep_dir(path: Path) -> bool:
    return (path / "sweep.json").is_file() and not (path / "metadata.json").is_file()


def plot(path: str | Path, responses: list[str] | None = None) -> list[Path]:
    """A run's figures, or a sweep's dose-response figure."""
    path = Path(path)
    if is_sweep_dir(path):
        return [plot_sweep(path, responses)]
    if responses:
        raise UserError(f"--response applies to a sweep directory; {path} is a run")
    return plot_run(path)


def _medium_changes_h(ts: pd.DataFrame) -> np.ndarray:
    """The times of the medium changes: the row before the count of changes steps up (a change is made at the
    start of the tick after a recorded time, so it shows from the next row on)."""
    changes = ts["medium_changes"].to_numpy()
    return ts["time_h"].to_numpy()[:-1][np.diff(changes) > 0]


def _mark_changes(ax, changes_h: np.ndarray, label: bool) -> None:
    for i, t in enumerate(changes_h):
        ax.axvline(t / 24.0, color="0.55", lw=0.7, ls=":", zorder=0,
                   label="medium change" if label and i == 0 else None)


def plot_run(run_dir: str | Path) -> list[Path]:
    """Draw the run's figures (of a ``.partial`` run too, from what it recorded); return their paths."""
    from boneabm.draw import SurfaceView
    from boneabm.snapshots import read_frame, snapshot_times

    result = load_run(run_dir)
    if result.timeseries.empty or result.cells.empty:
        raise UserError(f"{result.path}: nothing recorded yet to plot (status: {result.status})")
    figures = result.path / "figures"
    figures.mkdir(exist_ok=True)
    ts = result.timeseries
    domain = result.config["domain"]
    site_um = float(domain["grid_spacing_um"])
    area_cm2 = domain["width_um"] * domain["height_um"] / UM2_PER_CM2
    days = ts["time_h"] / 24.0
    changes_h = _medium_changes_h(ts)

    # counts differ by orders of magnitude (thousands of precursors, tens of osteoclasts): a log axis, as
    # densities per cm² as an assay reports them; a count of zero is left out of a log axis, not drawn at 1
    fig, (ax_n, ax_c) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for column, label, colour in POPULATION:
        density = ts[column].to_numpy(dtype=float) / area_cm2
        ax_n.plot(days, np.where(density > 0, density, np.nan), label=label, color=colour)
    _mark_changes(ax_n, changes_h, True)
    ax_n.set_yscale("log")
    ax_n.legend(fontsize=7)
    ax_n.set(xlabel="time (days)", ylabel="cells per cm² (log)",
             title=f"Cell population ({area_cm2 * 100:.3g} mm² simulated)")
    ax_c.plot(days, ts["confluence"], color="tab:green")
    _mark_changes(ax_c, changes_h, False)
    ax_c.set(xlabel="time (days)", ylabel="fraction of sites occupied", ylim=(0, 1.02), title="Confluence")
    _save(fig, figures / FIGURES[0])

    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    for column, label, colour in (*FACTORS, ANTIBODY):
        if column in ts and (column != ANTIBODY[0] or ts[column].max() > 0):
            ax.plot(days, ts[column], label=label, color=colour)
    _mark_changes(ax, changes_h, True)
    ax.set(xlabel="time (days)", ylabel="mean at the cells (ng/mL)", title="Soluble factors")
    ax.legend(fontsize=8)
    _save(fig, figures / FIGURES[1])

    times = snapshot_times(result.path)
    frame_at = (lambda t: read_frame(result.path, t)) if times else (lambda t: _frame_from_tables(result, t))
    if not times:
        times = sorted(result.cells["time_h"].unique())
    shown = [times[0], times[len(times) // 2], times[-1]] if len(times) >= 3 else times
    fig, axes = plt.subplots(1, len(shown), figsize=(5 * len(shown), 5.6), squeeze=False, layout="constrained")
    _settle(fig, [(SurfaceView(ax, frame_at(t), "mcsf_ng_ml", site_um, legend=i == 0), frame_at(t))
                  for i, (ax, t) in enumerate(zip(axes[0], shown))])
    fig.suptitle("Cells by stage, area by nuclei, on the M-CSF they see")
    _save(fig, figures / FIGURES[2])

    last = frame_at(times[-1])
    row = ts.iloc[-1]
    fig, (ax_m, ax_k) = plt.subplots(1, 2, figsize=(11, 5.8), layout="constrained")
    _settle(fig, [(SurfaceView(ax_m, last, "mineral_depth_um", site_um), last),
                  (SurfaceView(ax_k, last, "collagen_depth_um", site_um, legend=False), last)])
    ax_m.set_title(f"Mineral resorbed, {last.time_h / 24:.1f} d: {row['n_pits']:.0f} pits, "
                   f"{row['n_trenches']:.0f} trenches, {row['resorbed_volume_um3']:.3g} µm³", fontsize=9)
    ax_k.set_title(f"Collagen removed: {row['collagen_removed_um3']:.3g} µm³\n(inside an outline but darker: "
                   "demineralised collagen left)", fontsize=9)
    _save(fig, figures / FIGURES[3])
    drawn = [figures / name for name in FIGURES]
    if not result.bmus.empty and times:
        _save(bmu_figure(result, [read_frame(result.path, t) for t in _spread(times, 6)]), figures / BMU_FIGURE)
        drawn.append(figures / BMU_FIGURE)
    return drawn


def _spread(times: list[float], n: int) -> list[float]:
    """Up to ``n`` of ``times``, evenly spread, first and last included."""
    if len(times) <= n:
        return list(times)
    return [times[i] for i in np.linspace(0, len(times) - 1, n).round().astype(int)]


def bmu_figure(result, frames):
    """The BMU's cycle: the cavity's profile along the x axis through the first activation's centre at the
    ``frames``' times (eroded, then refilled: new matrix, its osteoid part hatched), the cells on the surface by
    type, and the markers of resorption and formation over time."""
    ts = result.timeseries
    days = ts["time_h"] / 24.0
    activation = result.config["osteocytes"]["activations"][0]
    fig, (ax_p, ax_c, ax_m) = plt.subplots(3, 1, figsize=(9, 11), layout="constrained")
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(frames)))
    for frame, colour in zip(frames, colours):
        eroded = frame.maps["mineral_depth_um"]
        pixel_um = frame.width_um / eroded.shape[0]
        row = min(int(activation["y_um"] // pixel_um), eroded.shape[1] - 1)
        x_um = (np.arange(eroded.shape[0]) + 0.5) * pixel_um
        formed = frame.maps.get("formed_um", np.zeros_like(eroded))[:, row]
        osteoid = frame.maps.get("osteoid_um", np.zeros_like(eroded))[:, row]
        floor = -eroded[:, row]
        ax_p.plot(x_um, floor + formed, color=colour, lw=1.2, label=f"day {frame.time_h / 24:.0f}")
        if osteoid.any():
            top = floor + formed
            ax_p.fill_between(x_um, top - osteoid, top, color=colour, alpha=0.35, hatch="//", lw=0)
    ax_p.plot([], [], color="0.5", alpha=0.35, lw=6, label="osteoid (hatched)")
    ax_p.axhline(0, color="0.3", lw=0.6, ls=":")
    ax_p.legend(fontsize=7, ncol=2)
    ax_p.set(xlabel=f"x (µm), along y = {activation['y_um']:g} µm through the activation",
             ylabel="surface height (µm; 0: before)", title="The cavity: eroded, then refilled")
    for column, label, colour in BMU_CELLS:
        if column in ts:
            counts = ts[column].to_numpy(dtype=float)
            ax_c.plot(days, np.where(counts > 0, counts, np.nan), label=label, color=colour)
    ax_c.set_yscale("log")
    ax_c.legend(fontsize=7)
    ax_c.set(xlabel="time (days)", ylabel="cells on the surface (log)", title="Cells by type")
    # resorption and formation run at different paces: each marker on its own axis
    ax_m.plot(days, ts["ctx_um3_per_d"], color="#c2185b", label="CTX proxy: matrix resorbed")
    ax_f = ax_m.twinx()
    ax_f.plot(days, ts["p1np_um3_per_d"], color="#1b7837", label="P1NP proxy: osteoid formed")
    ax_m.set(xlabel="time (days)", title="Markers")
    ax_m.set_ylabel("CTX proxy: matrix resorbed (µm³/d)", color="#c2185b")
    ax_f.set_ylabel("P1NP proxy: osteoid formed (µm³/d)", color="#1b7837")
    row = result.bmus.iloc[0]
    fig.suptitle(f"BMU {int(row['bmu_id'])}: erosion depth {row['erosion_depth_um']:.0f} µm, wall "
                 f"{row['wall_thickness_um']:.1f} µm, {row['resorbed_um3']:.3g} µm³ resorbed, "
                 f"{row['formed_um3']:.3g} µm³ formed", fontsize=10)
    return fig


def _settle(fig, views) -> None:
    """Lay the figure out, then draw each view's frame again: a cell's drawn size follows its axes' final
    width."""
    fig.canvas.draw()
    for view, frame in views:
        view.update(frame)


def _frame_from_tables(result, time_h: float):
    """A frame of a run without snapshots: its cells from cells.csv, its final depth maps from bone.csv, the
    factor maps as their means (timeseries.csv)."""
    from boneabm.snapshots import FIELD_MAPS, Frame

    domain, bone = result.config["domain"], result.config["bone"]
    sites = (round(domain["width_um"] / domain["grid_spacing_um"]), round(domain["height_um"] / domain["grid_spacing_um"]))
    pixels = (sites[0] * bone["pixels_per_site"], sites[1] * bone["pixels_per_site"])
    pixel_um = domain["grid_spacing_um"] / bone["pixels_per_site"]
    cells = result.cells[result.cells["time_h"] == time_h].assign(lineage="osteoclast")
    row = result.timeseries.iloc[(result.timeseries["time_h"] - time_h).abs().argmin()]
    maps = {name: np.full(sites, float(row.get(name, 0.0)), dtype=np.float32) for name in FIELD_MAPS}
    for name in ("mineral_depth_um", "collagen_depth_um"):
        maps[name] = np.zeros(pixels, dtype=np.float32)
        if time_h == result.cells["time_h"].max() and not result.bone.empty:
            ix = (result.bone["x_um"] / pixel_um - 0.5).round().astype(int)
            iy = (result.bone["y_um"] / pixel_um - 0.5).round().astype(int)
            maps[name][ix, iy] = result.bone[name]
    return Frame(float(time_h), cells, maps, domain["width_um"], domain["height_um"])


# ----------------------------------------------------------------------------------------------------------
# Sweeps


def _varied_keys(summary: pd.DataFrame) -> list[str]:
    """The varied keys: summary.csv's columns between replicate and error (boneabm/sweep/collect.py)."""
    columns = list(summary.columns)
    return columns[columns.index("replicate") + 1: columns.index("error")]


def plot_sweep(sweep_dir: Path, responses: list[str] | None = None) -> Path:
    """``sweep_figure`` of ``SWEEP_DIR/summary.csv``, into ``SWEEP_DIR/figures/dose_response.png``."""
    summary_path = sweep_dir / "summary.csv"
    if not summary_path.is_file():
        raise UserError(f"{sweep_dir}: no summary.csv yet (boneabm sweep --collect --out {sweep_dir} writes it)")
    fig = sweep_figure(pd.read_csv(summary_path), summary_path, responses)
    figures = sweep_dir / "figures"
    figures.mkdir(exist_ok=True)
    _save(fig, figures / SWEEP_FIGURE)
    return figures / SWEEP_FIGURE


def sweep_figure(summary: pd.DataFrame, summary_path: Path, responses: list[str] | None = None):
    """Each response column against each varied key: one dot per run, the mean of the replicates ± SD joined by a
    line, one line per combination of the other varied keys (dose-response); a log axis for doses spanning two
    orders of magnitude or more."""
    varied = _varied_keys(summary)
    complete = summary[summary["status"] == "complete"]
    if complete.empty or not varied:
        raise UserError(f"{summary_path}: {'no complete run' if complete.empty else 'no varied key'} to plot")
    chosen = list(responses) if responses else [c for c in SWEEP_RESPONSES if c in complete]
    unknown = [c for c in chosen if c not in complete]
    if unknown:
        numeric = [c for c in complete.columns if c.endswith(("_final", "_max"))]
        raise UserError(f"--response {', '.join(unknown)}: not a column of {summary_path}; e.g. "
                        f"{', '.join(numeric[:6])}")
    fig, axes = plt.subplots(len(chosen), len(varied), figsize=(4.6 * len(varied), 3.2 * len(chosen)),
                             squeeze=False, layout="constrained")
    for j, key in enumerate(varied):
        x_numeric = pd.to_numeric(complete[key], errors="coerce")
        numeric = x_numeric.notna().all()
        others = [k for k in varied if k != key]
        groups = complete.groupby(others, sort=False) if others else [((), complete)]
        for i, column in enumerate(chosen):
            ax = axes[i][j]
            for label, group in groups:
                x = pd.to_numeric(group[key]) if numeric else group[key].astype(str)
                means = group[column].groupby(x.to_numpy(), sort=True).agg(["mean", "std"])
                name = ", ".join(f"{k}={v}" for k, v in zip(others, label if isinstance(label, tuple) else
                                                             (label,))) or "mean of replicates"
                line = ax.errorbar(means.index, means["mean"], yerr=means["std"].fillna(0), marker="o", ms=4,
                                   capsize=3, label=name)
                ax.scatter(x, group[column], s=10, alpha=0.5, color=line[0].get_color(), zorder=3)
            if numeric and (x_numeric > 0).all() and x_numeric.max() / x_numeric.min() >= 100:
                ax.set_xscale("log")
            ax.set(xlabel=key, ylabel=column)
            if i == 0 and j == 0:
                ax.legend(fontsize=6)
    n = complete.groupby(varied).size()
    fig.suptitle(f"{summary_path.parent.name}: mean ± SD of replicates ({n.min()}–{n.max()} per point), each run "
                 "a dot")
    return fig
