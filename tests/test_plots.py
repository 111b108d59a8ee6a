"""boneabm plot redrawn to be read (issue 17): densities per cm² on a log axis, medium changes where they
happened, cells sized by nuclei on maps with colour bars and units; a sweep's dose-response with replicate
spread."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
import yaml

import boneabm
from boneabm.cli import main
from boneabm.draw import LAYERS, surface_figure
from boneabm.plot import _medium_changes_h, sweep_figure
from boneabm.snapshots import Frame, read_frame, snapshot_times

RUN = {"name": "plots", "seed": 4, "medium": {"rankl_ng_ml": 50, "change_every_h": 12},
       "domain": {"width_um": 500, "height_um": 500}, "time": {"duration_h": 36, "snapshot_every_h": 12}}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return boneabm.run(RUN, out=tmp_path_factory.mktemp("plots") / "run")


def test_medium_changes_are_marked_when_they_were_made(run):
    assert _medium_changes_h(run.timeseries).tolist() == [12.0, 24.0]


def test_run_figures_are_written(run, capsys):
    assert main(["plot", str(run.path)]) == 0
    names = [line.rsplit("/", 1)[1] for line in capsys.readouterr().out.split()]
    assert names == ["population.png", "factors.png", "cells.png", "bone.png"]
    assert main(["plot", str(run.path), "--response", "n_pits_final"]) == 2  # a sweep's option


def test_a_run_made_before_snapshots_is_drawn_from_its_tables(run, tmp_path, capsys):
    """A run directory without snapshots/ (boneabm before them) still gets every figure, its frames rebuilt from
    cells.csv, bone.csv and timeseries.csv."""
    import shutil

    from boneabm.api import load_run
    from boneabm.plot import _frame_from_tables

    bare = tmp_path / "bare"
    shutil.copytree(run.path, bare)
    shutil.rmtree(bare / "snapshots")
    assert main(["plot", str(bare)]) == 0
    assert sorted(path.name for path in (bare / "figures").iterdir()) == sorted(
        ["population.png", "factors.png", "cells.png", "bone.png"])
    old = load_run(bare)
    end_h = float(old.cells["time_h"].max())
    frame = _frame_from_tables(old, end_h)
    at_end = old.cells[old.cells["time_h"] == end_h]
    assert len(frame.cells) == len(at_end) > 0
    assert frame.cells["nuclei"].sum() == at_end["nuclei"].sum()
    assert frame.maps["mcsf_ng_ml"].mean() == pytest.approx(old.timeseries["mcsf_ng_ml"].iloc[-1], rel=1e-6)


@pytest.mark.parametrize("layer", list(LAYERS))
def test_every_map_has_a_colour_bar_with_its_unit_and_cells_sized_by_nuclei(run, layer):
    frame = read_frame(run.path, snapshot_times(run.path)[-1])
    cells = pd.DataFrame({"time_h": 36.0, "lineage": "osteoclast", "cell_id": [1, 2], "x_um": [100.0, 300.0],
                          "y_um": [100.0, 300.0], "state": ["precursor", "osteoclast"], "nuclei": [1, 9]})
    fig, view = surface_figure(Frame(36.0, cells, frame.maps, 500.0, 500.0), layer)
    assert view.colourbar.ax.get_ylabel().endswith(f"({LAYERS[layer].unit})")
    one = view.cells["osteoclast", "precursor"].get_sizes()
    nine = view.cells["osteoclast", "osteoclast"].get_sizes()
    assert len(one) == len(nine) == 1 and np.isclose(np.sqrt(nine[0] / one[0]), 3.0)  # diameter ∝ √nuclei
    matplotlib.pyplot.close(fig)


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    base = folder / "base.yaml"
    base.write_text(yaml.safe_dump({**RUN, "time": {"duration_h": 12, "snapshot_every_h": 12}}))
    sweep = folder / "dose.yaml"
    sweep.write_text(yaml.safe_dump({"sweep": "dose", "base": "base.yaml", "seed": 3, "replicates": 2,
                                     "grid": {"medium.rankl_ng_ml": [0, 100]}}))
    out = folder / "out"
    for index in range(4):
        assert main(["sweep", str(sweep), "--out", str(out), "--index", str(index), "--quiet"]) == 0
    assert main(["sweep", str(sweep), "--out", str(out), "--collect", "--quiet"]) == 0
    return out


def test_a_sweep_gets_a_dose_response_with_replicate_spread(sweep_dir, capsys):
    assert main(["plot", str(sweep_dir), "--response", "n_trap_mononuclear_final"]) == 0
    assert capsys.readouterr().out.strip() == str(sweep_dir / "figures" / "dose_response.png")
    summary = pd.read_csv(sweep_dir / "summary.csv")
    fig = sweep_figure(summary, sweep_dir / "summary.csv", ["n_trap_mononuclear_final", "n_cells_final"])
    axes = fig.axes
    assert [ax.get_ylabel() for ax in axes] == ["n_trap_mononuclear_final", "n_cells_final"]
    assert all(ax.get_xlabel() == "medium.rankl_ng_ml" for ax in axes)
    line = axes[0].lines[0]
    expected = summary.groupby("medium.rankl_ng_ml")["n_trap_mononuclear_final"].mean()
    assert line.get_xdata().tolist() == [0, 100] and np.allclose(line.get_ydata(), expected.to_numpy())
    assert len(axes[0].collections[-1].get_offsets()) == 4  # every run a dot
    matplotlib.pyplot.close(fig)
    assert main(["plot", str(sweep_dir), "--response", "n_octopi_final"]) == 2
    assert "--response n_octopi_final: not a column" in capsys.readouterr().err


def test_pits_and_trenches_are_outlined_apart_as_the_bone_counts_them():
    """Issue 17: the resorbed-depth map with pits and trenches outlined. A round pit and a trench resorbed into a
    bone; the frame's event map comes from the bone's own counting, and the drawn edges take each kind's colour."""
    from boneabm.config import BoneConfig, DomainConfig
    from boneabm.draw import OUTLINE_RGBA, TRENCH_OUTLINE_RGBA
    from boneabm.environment.bone import Bone
    from boneabm.snapshots import EVENT_MAP

    bone = Bone(BoneConfig(), DomainConfig(width_um=500, height_um=500, grid_spacing_um=25, periodic=False))
    bone.resorb(1, 120, 250, 40, 3e4, 3e4)  # a round pit on the left
    for k in range(40):  # a trench on the right, running up
        bone.resorb(2, 380, 100 + 7 * k, 15, 800.0, 800.0)
    assert (bone.metrics()["n_pits"], bone.metrics()["n_trenches"]) == (1, 1)
    cells = pd.DataFrame({"time_h": [0.0], "lineage": ["osteoclast"], "cell_id": [1], "x_um": [250.0],
                          "y_um": [250.0], "state": ["precursor"], "nuclei": [1]})
    frame = Frame(0.0, cells, {"mineral_depth_um": bone.mineral_depth_um.astype(np.float32),
                               "collagen_depth_um": bone.collagen_depth_um.astype(np.float32),
                               EVENT_MAP: bone.event_map()}, 500.0, 500.0)
    fig, view = surface_figure(frame, "mineral_depth_um", dpi=80)
    rgba = np.asarray(view.image.get_array())  # the composited map, [y, x]
    pit = np.all(rgba == OUTLINE_RGBA, axis=-1)
    trench = np.all(rgba == TRENCH_OUTLINE_RGBA, axis=-1)
    columns = rgba.shape[1]
    assert pit.any() and trench.any()
    assert np.nonzero(pit)[1].max() < columns / 2 < np.nonzero(trench)[1].min()  # each where its kind lies


def test_a_bmu_run_gets_its_cycle_drawn(tmp_path, capsys):
    """A run with an activation gets bmu.png: the cavity's profile through the activation at each drawn time (a
    line per snapshot, below the old surface once eroded, raised again where matrix is laid), the surface's cells
    by type and the two markers; the snapshots hold the new-matrix and osteoid maps it reads."""
    from boneabm.catalog import find
    from boneabm.plot import bmu_figure
    from boneabm.yamlio import read_yaml

    data = read_yaml(find("bmu").path)
    data.update(seed=3, name="bmu_plot")
    data["domain"].update(width_um=750, height_um=750)
    data["time"].update(duration_h=240, snapshot_every_h=48)
    data["osteocytes"]["activations"] = [{"at_h": 2, "x_um": 375, "y_um": 375, "radius_um": 100}]
    run = boneabm.run(data, out=tmp_path / "run")
    assert main(["plot", str(run.path)]) == 0
    assert capsys.readouterr().out.split()[-1].endswith("bmu.png")
    times = snapshot_times(run.path)
    last = read_frame(run.path, times[-1])
    assert last.maps["formed_um"].shape == last.maps["mineral_depth_um"].shape
    assert (last.maps["osteoid_um"] <= last.maps["formed_um"] + 1e-6).all()
    assert last.maps["cement_um"].any()  # reversal cells have cemented some of the eroded surface by day 10
    first = read_frame(run.path, times[0])  # before any formation, the same maps, all zero
    assert set(first.maps) == set(last.maps) and not first.maps["formed_um"].any()
    fig = bmu_figure(run, [read_frame(run.path, t) for t in times])
    profile, cells, markers, formation = fig.axes
    lines = [line for line in profile.get_lines() if line.get_label().startswith("day")]
    assert len(lines) == len(times)
    assert lines[0].get_ydata().min() == 0  # nothing eroded at t = 0
    assert lines[-1].get_ydata().min() < -1  # a cavity by day 10
    assert {line.get_label() for line in cells.get_lines()} >= {"osteoclasts (≥ 3 nuclei)", "osteoprogenitors"}
    assert len(markers.get_lines()) == len(formation.get_lines()) == 1  # CTX, and P1NP on its own axis
    matplotlib.pyplot.close(fig)
