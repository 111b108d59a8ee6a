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
from boneabm.columns import TABLES, expand
from boneabm.output import PARTIAL_SUFFIX, empty_table, partial_path, read_table, run_network_names, table_path
from boneabm import continuation, runner


# tables a run of an older schema version does not have
_LATER_TABLES = {2: ("osteoclast_days", "bmus"), 3: ("bmus",)}


@dataclass(frozen=True)
class Run:
    """A run directory's contents: resolved config, metadata and its seven tables, each with the dtypes of
    ``boneabm.columns`` (the run's ``columns.csv``), whether written as CSV or parquet."""

    path: Path
    config: dict[str, Any]
    metadata: dict[str, Any]
    timeseries: pd.DataFrame
    cells: pd.DataFrame
    events: pd.DataFrame
    osteoclasts: pd.DataFrame
    osteoclast_days: pd.DataFrame
    bone: pd.DataFrame
    bmus: pd.DataFrame

    @property
    def status(self) -> str:
        """``complete``, or what an unfinished run recorded: ``running`` (or killed), ``failed``,
        ``interrupted``."""
        return self.metadata.get("status", "running")

    @property
    def complete(self) -> bool:
        return self.status == "complete" and not self.path.name.endswith(PARTIAL_SUFFIX)


def run(config: str | Path | dict | Experiment, seed: int | None = None, out: str | Path | None = None,
        overrides: list[str] | tuple[str, ...] = (), progress: bool = False,
        checkpoint_every_h: float | None = None, keep: int | None = None) -> Run:
    """Run an experiment (a YAML path, a mapping or an ``Experiment``) and return its tables.

    ``seed`` overrides the config's seed (a fresh one is drawn if neither gives one); ``out`` is the run
    directory (default ``runs/<name>/<UTC timestamp>-seed<N>``); ``overrides`` are ``dotted.key=value``
    strings as for ``boneabm run --set``; ``checkpoint_every_h`` (and ``keep``) as ``--checkpoint-every``
    (and ``--keep``).
    """
    if isinstance(config, Experiment):
        config = config.to_dict()
    if isinstance(config, dict):
        experiment = load_experiment(data=config, overrides=overrides)
    else:
        experiment = load_experiment(config, overrides=overrides)
    return load_run(runner.execute(with_seed(experiment, seed), out=out, progress=progress,
                                   checkpointing=runner.checkpointing(checkpoint_every_h, keep)))


def resume(run_dir: str | Path, progress: bool = False) -> Run:
    """Continue a killed or interrupted run from its last checkpoint (as ``boneabm resume``)."""
    return load_run(continuation.resume(Path(run_dir), progress=progress))


def fork(checkpoint: str | Path, overrides: list[str] | tuple[str, ...] = (), seed: int | None = None,
         out: str | Path | None = None, progress: bool = False, checkpoint_every_h: float | None = None,
         keep: int | None = None) -> Run:
    """Start a new run from a checkpoint with ``dotted.key=value`` changes that can happen mid-run (as
    ``boneabm fork``); its tables start at the checkpoint's time."""
    return load_run(continuation.fork(Path(checkpoint), overrides, seed, Path(out) if out is not None else None,
                                      progress=progress,
                                      checkpointing=runner.checkpointing(checkpoint_every_h, keep)))


def load_run(run_dir: str | Path) -> Run:
    """Load a run directory: a finished one, or a ``.partial`` one given by its full name.

    Of an unfinished run it loads what is there: tables not written yet (``osteoclasts`` and ``bone`` come at
    the end) are empty DataFrames with the documented columns and dtypes, and ``Run.status`` says how it
    stopped. A finished run missing a table is an error, except a table its boneabm did not write yet
    (``osteoclast_days`` before schema version 3), which is empty.
    """
    path = Path(run_dir)
    if not path.is_dir():
        hint = f"; the unfinished run is at {partial_path(path)}" if partial_path(path).is_dir() else ""
        raise UserError(f"{path}: no such run directory{hint}")
    try:
        metadata = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
        config = yaml.safe_load((path / "config.yaml").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UserError(f"{path}: not a boneabm run directory ({Path(exc.filename).name} is missing)") from None
    complete = metadata.get("status") == "complete" and not path.name.endswith(PARTIAL_SUFFIX)
    names = run_network_names(path)
    tables = {}
    for table in TABLES:
        columns = expand(table, *names)
        file = table_path(path, table)
        if file is None and complete and table not in _LATER_TABLES.get(metadata.get("schema_version"), ()):
            raise UserError(f"{path}: not a boneabm run directory ({table}.csv or {table}.parquet is missing)")
        tables[table] = empty_table(columns) if file is None else read_table(file, columns, complete)
    return Run(path=path, config=config, metadata=metadata, **tables)
