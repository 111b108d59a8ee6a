"""The run directory and what goes into it.

A run writes into ``DIR.partial/`` and is renamed to ``DIR`` only once complete, so a crashed or killed run
never looks finished. Tables are appended as the run goes (a long run can be watched), copied from the model's
arrays, never gathered agent by agent. Floats are written with 10 significant digits, so the same config and
seed give byte-identical CSVs.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from boneabm import __version__
from boneabm.cells.osteoclast import MODE_NAMES, stages
from boneabm.config import Experiment
from boneabm.environment.fields import ANTIBODY_DA
from boneabm.units import MCSF_HOMODIMER_DA, OPG_DIMER_DA, RANKL_MONOMER_DA, nM_to_ng_ml
from boneabm.errors import UserError
from boneabm.signaling.network import network_path

SCHEMA_VERSION = 1
FLOAT_FORMAT = "%.10g"
PARTIAL_SUFFIX = ".partial"

FIELD_COLUMNS = {  # column -> (field species, molecular weight): means over the sites, what cells see
    "mcsf_ng_ml": (("mcsf",), MCSF_HOMODIMER_DA),
    "rankl_free_ng_ml": (("rankl",), RANKL_MONOMER_DA),
    "rankl_total_ng_ml": (("rankl", "rankl_opg", "rankl_antibody"), RANKL_MONOMER_DA),
    "opg_free_ng_ml": (("opg",), OPG_DIMER_DA),
    "antibody_free_ng_ml": (("antibody",), ANTIBODY_DA),
}
BONE_COLUMNS = ["resorbed_volume_um3", "collagen_removed_um3", "resorbed_area_um2", "n_pits", "n_trenches",
                "mean_depth_um", "max_depth_um"]
TIMESERIES_COLUMNS = [
    "time_h", "n_cells", "n_precursors", "precursors_per_cm2", "n_trap_mononuclear", "n_multinucleated",
    "n_osteoclasts", "nuclei_in_osteoclasts", "confluence", "divisions_total", "deaths_total", "fusions_total",
    *FIELD_COLUMNS, "mcsf_sd_ng_ml", "rankl_free_sd_ng_ml", "medium_mcsf_ng_ml", "medium_rankl_free_ng_ml",
    "medium_changes", *BONE_COLUMNS, "ssa_events_total",
]  # then <counter>_total, <observable>_mean and <observable>_sd for the network's counters and observables
CELLS_COLUMNS = ["time_h", "cell_id", "x_um", "y_um", "state", "nuclei", "resorption_mode", "generation", "born_h",
                 "mcsf_ng_ml", "rankl_free_ng_ml"]
# then one column per network observable (molecules) and counter (events since birth)


def timeseries_columns(network) -> list[str]:
    return (TIMESERIES_COLUMNS + [f"{name}_total" for name in network.counters]
            + [f"{name}_{stat}" for name in network.observables for stat in ("mean", "sd")])


def cells_columns(network) -> list[str]:
    return CELLS_COLUMNS + list(network.observables) + list(network.counters)
EVENTS_COLUMNS = ["time_h", "event", "cell_id", "partner_id", "value"]
BONE_CSV_COLUMNS = ["x_um", "y_um", "mineral_depth_um", "collagen_depth_um"]
OSTEOCLAST_COLUMNS = ["osteoclast_id", "formed_h", "died_h", "fate", "max_nuclei", "resorbed_um3",
                      "collagen_removed_um3", "distance_um"]
_PACKAGES = ["mesa", "numpy", "numba", "llvmlite", "pandas", "scipy", "pydantic", "PyYAML", "tqdm", "matplotlib",
             "dask", "distributed"]


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file of this process, so a reader (or a concurrent
    writer of the same content) never sees half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def partial_path(run_dir: Path) -> Path:
    return run_dir.with_name(run_dir.name + PARTIAL_SUFFIX)


def refuse_existing(run_dir: Path) -> None:
    """Nothing a user made is overwritten: refuse a run directory that exists, finished or not."""
    for path in (run_dir, partial_path(run_dir)):
        if path.exists():
            raise UserError(f"--out {run_dir}: {path} already exists; choose a new directory (nothing was written)")


def default_run_dir(experiment: Experiment, base: Path = Path("runs")) -> Path:
    """``runs/<name>/<UTC timestamp>-seed<N>``, with a numeric suffix if two runs start in the same second."""
    stem = f"{utc_now():%Y%m%dT%H%M%SZ}-seed{experiment.seed}"
    candidate, n = base / experiment.name / stem, 1
    while candidate.exists() or partial_path(candidate).exists():
        n += 1
        candidate = base / experiment.name / f"{stem}-{n}"
    return candidate


def _git_commit() -> str | None:
    source = Path(__file__).resolve().parent.parent
    if not (source / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


def environment() -> dict:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    import numba

    # where and how the run ran: a sweep's runs spread over worker processes and hosts
    return {"python": sys.version.split()[0], "platform": platform.platform(), "host": platform.node(),
            "pid": os.getpid(), "numba_threads": numba.get_num_threads(), "packages": versions}


class RunDirectory:
    """Owns ``DIR.partial/`` while a run is under way and renames it to ``DIR`` when complete."""

    def __init__(self, run_dir: Path, experiment: Experiment, command: list[str] | None = None):
        refuse_existing(run_dir)
        self.final = run_dir
        self.path = partial_path(run_dir)
        self.path.mkdir(parents=True)
        self.started = utc_now()
        self.metadata = {
            "schema_version": SCHEMA_VERSION,
            "boneabm_version": __version__,
            "git_commit": _git_commit(),
            "seed": experiment.seed,
            "experiment": experiment.name,
            "command": command,
            **environment(),
            "started_utc": self.started.isoformat(timespec="seconds"),
            "ended_utc": None,
            "wall_s": None,
            "status": "running",
            "error": None,
        }
        self._write_metadata()

    def write_inputs(self, experiment: Experiment) -> None:
        """The resolved config, and the network the run used, so the directory alone describes the run."""
        (self.path / "config.yaml").write_text(experiment.to_yaml(), encoding="utf-8")
        shutil.copyfile(network_path(experiment.signaling.network), self.path / "network.yaml")

    def _write_metadata(self) -> None:
        write_atomically(self.path / "metadata.json", json.dumps(self.metadata, indent=2) + "\n")

    def _finish(self, status: str, error: str | None = None, **extra) -> None:
        ended = utc_now()
        self.metadata.update(status=status, error=error, ended_utc=ended.isoformat(timespec="seconds"),
                             wall_s=round((ended - self.started).total_seconds(), 3), **extra)
        self._write_metadata()

    def complete(self, **extra) -> Path:
        self._finish("complete", **extra)
        os.rename(self.path, self.final)
        self.path = self.final
        return self.final

    def fail(self, status: str, error: str) -> None:
        """Record why the run stopped; the directory stays at ``DIR.partial``."""
        self._finish(status, error)


def _append(path: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(path, mode="a", header=not path.exists(), index=False, float_format=FLOAT_FORMAT)


def osteoclast_rows(model) -> list[dict]:
    """Every osteoclast that formed: its record, completed from the arrays if alive, its bone from the maps."""
    pop, rows = model.population, []
    living = {int(pop.cell_id[r]): r for r in pop.rows}
    for osteoclast_id, record in sorted(model.osteoclast_records.items()):
        row = living.get(osteoclast_id) if record["fate"] == "alive" else None
        mineral, collagen = model.bone.removed_by.get(osteoclast_id, (0.0, 0.0))
        rows.append({
            "osteoclast_id": osteoclast_id, "formed_h": record["formed_h"], "died_h": record["died_h"],
            "fate": record["fate"],
            "max_nuclei": int(pop.max_nuclei[row]) if row is not None else record["max_nuclei"],
            "resorbed_um3": float(mineral), "collagen_removed_um3": float(collagen),
            "distance_um": float(pop.distance_um[row]) if row is not None else record["distance_um"],
        })
    return rows


def observables(model, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Each network observable (a sum of species) for the cells in ``rows``."""
    molecules = model.population.molecules
    return {name: molecules[rows][:, species].sum(axis=1) for name, species in model.network.observables.items()}


class Recorder:
    """Copies the model's arrays into the run's tables."""

    def __init__(self, directory: Path, network):
        self.timeseries_path = directory / "timeseries.csv"
        self.cells_path = directory / "cells.csv"
        self.events_path = directory / "events.csv"
        self.timeseries_columns = timeseries_columns(network)
        self.cells_columns = cells_columns(network)
        for path, columns in ((self.timeseries_path, self.timeseries_columns),
                              (self.cells_path, self.cells_columns), (self.events_path, EVENTS_COLUMNS)):
            _append(path, pd.DataFrame(columns=columns))

    def record(self, model) -> None:
        pop = model.population
        rows = pop.rows
        nuclei, committed = pop.nuclei[rows], pop.committed[rows]
        n_precursors = int(np.count_nonzero(~committed & (nuclei == 1)))
        osteoclast = nuclei >= model.experiment.osteoclasts.min_nuclei
        domain = model.experiment.domain
        fields = model.fields
        row = {
            "time_h": model.time_h,
            "n_cells": rows.size,
            "n_precursors": n_precursors,
            "precursors_per_cm2": n_precursors / domain.area_cm2,
            "n_trap_mononuclear": int(np.count_nonzero(committed & (nuclei == 1))),
            "n_multinucleated": int(np.count_nonzero(nuclei > 1)),
            "n_osteoclasts": int(np.count_nonzero(osteoclast)),
            "nuclei_in_osteoclasts": int(nuclei[osteoclast].sum()),
            "confluence": rows.size / (domain.shape[0] * domain.shape[1]),
            "divisions_total": model.divisions_total,
            "deaths_total": model.deaths_total,
            "fusions_total": model.fusions_total,
            **{column: nM_to_ng_ml(sum(fields.sites[name].mean() / fields.binding_sites.get(name, 1)
                                       for name in species), weight)
               for column, (species, weight) in FIELD_COLUMNS.items()},
            "mcsf_sd_ng_ml": nM_to_ng_ml(fields.sites["mcsf"].std(), MCSF_HOMODIMER_DA),
            "rankl_free_sd_ng_ml": nM_to_ng_ml(fields.sites["rankl"].std(), RANKL_MONOMER_DA),
            "medium_mcsf_ng_ml": nM_to_ng_ml(fields.medium["mcsf"], MCSF_HOMODIMER_DA) if fields.culture else np.nan,
            "medium_rankl_free_ng_ml": (nM_to_ng_ml(fields.medium["rankl"], RANKL_MONOMER_DA) if fields.culture
                                        else np.nan),
            "medium_changes": fields.n_changes,
            **model.bone.metrics(),
            "ssa_events_total": model.ssa_events_total,
        }
        row.update({f"{name}_total": int(total) for name, total in zip(model.network.counters,
                                                                       model.counter_totals)})
        for name, values in observables(model, model.population.rows).items():
            row[f"{name}_mean"] = values.mean() if values.size else np.nan
            row[f"{name}_sd"] = values.std() if values.size else np.nan
        _append(self.timeseries_path, pd.DataFrame([row], columns=self.timeseries_columns))

    def snapshot(self, model) -> None:
        pop = model.population
        rows = pop.rows
        rows = rows[np.argsort(pop.cell_id[rows], kind="stable")]
        spacing = model.experiment.domain.grid_spacing_um
        frame = pd.DataFrame({
            "time_h": np.full(rows.size, model.time_h),
            "cell_id": pop.cell_id[rows],
            "x_um": (pop.x[rows] + 0.5) * spacing,
            "y_um": (pop.y[rows] + 0.5) * spacing,
            "state": stages(pop.nuclei[rows], pop.committed[rows], model.experiment.osteoclasts.min_nuclei),
            "nuclei": pop.nuclei[rows],
            "resorption_mode": np.where(pop.nuclei[rows] > 1, MODE_NAMES[pop.mode[rows]], "none"),
            "generation": pop.generation[rows],
            "born_h": pop.born_h[rows],
            "mcsf_ng_ml": nM_to_ng_ml(model.fields.sites["mcsf"][pop.x[rows], pop.y[rows]], MCSF_HOMODIMER_DA),
            "rankl_free_ng_ml": nM_to_ng_ml(model.fields.sites["rankl"][pop.x[rows], pop.y[rows]],
                                            RANKL_MONOMER_DA),
            **observables(model, rows),
            **{name: pop.counters[rows, i] for i, name in enumerate(model.network.counters)},
        }, columns=self.cells_columns)
        _append(self.cells_path, frame)

    def finish(self, model) -> None:
        """The final depth maps (resorbed pixels only, long format) and one row per osteoclast that formed."""
        directory = self.cells_path.parent
        pd.DataFrame(model.bone.depth_table(), columns=BONE_CSV_COLUMNS).to_csv(
            directory / "bone.csv", index=False, float_format=FLOAT_FORMAT)
        pd.DataFrame(osteoclast_rows(model), columns=OSTEOCLAST_COLUMNS).to_csv(
            directory / "osteoclasts.csv", index=False, float_format=FLOAT_FORMAT)

    def take_events(self, model) -> None:
        if model.events:
            # canonical order within a tick: by cell, whatever order the model met the cells in
            frame = pd.DataFrame(model.events, columns=EVENTS_COLUMNS)
            _append(self.events_path, frame.sort_values(["time_h", "cell_id", "event"], kind="stable"))
            model.events.clear()
