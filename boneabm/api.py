"""The notebook API: run an experiment or load a finished one, getting its tables as DataFrames."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from boneabm.config import Experiment, load_experiment, with_seed
from boneabm.errors import UserError
from boneabm.output import partial_path
from boneabm.runner import execute


@dataclass(frozen=True)
class Run:
    """A run directory's contents: resolved config, metadata and its five tables."""

    path: Path
    config: dict[str, Any]
    metadata: dict[str, Any]
    timeseries: pd.DataFrame
    cells: pd.DataFrame
    events: pd.DataFrame
    osteoclasts: pd.DataFrame
    bone: pd.DataFrame


def run(config: str | Path | dict | Experiment, seed: int | None = None, out: str | Path | None = None,
        overrides: list[str] | tuple[str, ...] = (), progress: bool = False) -> Run:
    """Run an experiment (a YAML path, a mapping or an ``Experiment``) and return its tables.

    ``seed`` overrides the config's seed (a fresh one is drawn if neither gives one); ``out`` is the run
    directory (default ``runs/<name>/<UTC timestamp>-seed<N>``); ``overrides`` are ``dotted.key=value``
    strings as for ``boneabm run --set``.
    """
    if isinstance(config, Experiment):
        config = config.to_dict()
    if isinstance(config, dict):
        experiment = load_experiment(data=config, overrides=overrides)
    else:
        experiment = load_experiment(config, overrides=overrides)
    return load_run(execute(with_seed(experiment, seed), out=out, progress=progress))


def load_run(run_dir: str | Path) -> Run:
    """Load a run directory (a finished one, or a ``.partial`` one given by its full name)."""
    path = Path(run_dir)
    if not path.is_dir():
        hint = f"; the unfinished run is at {partial_path(path)}" if partial_path(path).is_dir() else ""
        raise UserError(f"{path}: no such run directory{hint}")
    try:
        metadata = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
        config = yaml.safe_load((path / "config.yaml").read_text(encoding="utf-8"))
        tables = {name: pd.read_csv(path / f"{name}.csv")
                  for name in ("timeseries", "cells", "events", "osteoclasts", "bone")}
    except FileNotFoundError as exc:
        raise UserError(f"{path}: not a boneabm run directory ({Path(exc.filename).name} is missing)") from None
    return Run(path=path, config=config, metadata=metadata, **tables)
