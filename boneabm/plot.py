"""Figures of a run directory, written into ``RUN_DIR/figures/``.

Each figure is written to a temporary name and moved into place, so only boneabm's own files are replaced and a
reader never sees half a PNG.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from boneabm.api import load_run  # noqa: E402

FIGURES = ("population.png", "medium.png", "cells.png")


def _save(fig, path: Path) -> None:
    temporary = path.with_name(path.stem + ".tmp.png")
    fig.savefig(temporary, dpi=120, bbox_inches="tight")
    plt.close(fig)
    os.replace(temporary, path)


def plot_run(run_dir: str | Path) -> list[Path]:
    """Draw the run's figures; return their paths."""
    result = load_run(run_dir)
    figures = result.path / "figures"
    figures.mkdir(exist_ok=True)
    ts, cells = result.timeseries, result.cells
    days = ts["time_h"] / 24.0

    fig, (ax_n, ax_c) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    ax_n.plot(days, ts["n_precursors"], color="tab:blue")
    ax_n.set(xlabel="time (days)", ylabel="precursors in the domain", title="Precursor population")
    ax_c.plot(days, ts["confluence"], color="tab:green")
    ax_c.set(xlabel="time (days)", ylabel="fraction of sites occupied", ylim=(0, 1.02), title="Confluence")
    _save(fig, figures / FIGURES[0])

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.plot(days, ts["mcsf_ng_ml"], label="M-CSF")
    ax.plot(days, ts["rankl_ng_ml"], label="RANKL")
    ax.set(xlabel="time (days)", ylabel="medium (ng/mL)", title="Culture medium")
    ax.legend()
    _save(fig, figures / FIGURES[1])

    domain = result.config["domain"]
    times = sorted(cells["time_h"].unique())
    shown = [times[0], times[len(times) // 2], times[-1]] if len(times) >= 3 else times
    fig, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 4.4), squeeze=False,
                             layout="constrained")
    for ax, t in zip(axes[0], shown):
        at = cells[cells["time_h"] == t]
        ax.scatter(at["x_um"], at["y_um"], s=2, c=at["generation"], cmap="viridis")
        ax.set(xlim=(0, domain["width_um"]), ylim=(0, domain["height_um"]), aspect="equal",
               xlabel="x (µm)", ylabel="y (µm)", title=f"{t / 24:.1f} d: {len(at)} cells")
    fig.suptitle("Cells, coloured by generation")
    _save(fig, figures / FIGURES[2])
    return [figures / name for name in FIGURES]
