"""A sweep's tables, built from the run directories present: ``summary.csv`` (one row per run) and
``timeseries.csv`` (every complete run's time series, labelled; ``timeseries.parquet`` when the runs write
parquet).

Both list the runs in the order of their varied values — each grid key's numbers by value (other values after
them, in the file's order), then the sample number, then the replicate — and hold no wall times or host names,
so the same sweep gives byte-identical tables whatever ran it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from boneabm.columns import expand
from boneabm.files import write_atomically
from boneabm.output import (FLOAT_FORMAT, PARQUET_COMPRESSION, partial_path, read_table, run_network_names,
                            table_path)
from boneabm.sweep.spec import Sweep, SweepRun, value_label

SUMMARY_COLUMNS = ["run_id", "status", "seed", "replicate"]  # then the varied keys, error, then the metrics


def run_status(out: Path, run_id: str) -> tuple[str, str | None]:
    """``complete``, ``missing``, or the status an unfinished run recorded (``failed``, ``interrupted``,
    ``running`` if its process died), with the last line of its error."""
    final = out / run_id
    if final.is_dir():
        return "complete", None
    partial = partial_path(final)
    if not partial.is_dir():
        return "missing", None
    try:
        metadata = json.loads((partial / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "running", None
    error = (metadata.get("error") or "").strip().splitlines()
    return metadata.get("status", "running"), (error[-1] if error else None)


def _metrics(timeseries: pd.DataFrame) -> dict[str, float]:
    """Each numeric column's final value, maximum and the time it was first reached."""
    time_h = timeseries["time_h"].to_numpy()
    row = {}
    for column in timeseries.columns.drop("time_h"):
        values = pd.to_numeric(timeseries[column], errors="coerce").to_numpy(dtype=float)
        finite = np.isfinite(values)
        row[f"{column}_final"] = values[-1] if values.size else np.nan
        row[f"{column}_max"] = values[finite].max() if finite.any() else np.nan
        row[f"{column}_tmax_h"] = time_h[np.flatnonzero(finite)[np.argmax(values[finite])]] if finite.any() else np.nan
    return row


def _labels(sweep: Sweep, run: SweepRun) -> dict:
    return {key: value_label(run.values[key]) for key in sweep.varied}


def run_order(sweep: Sweep) -> list[SweepRun]:
    """The runs by their grid values, key by key in the file's order: numbers by value, then anything else
    (gene lists, names) in the order the file lists it; then by their place in the expansion: sampled points
    by sample number, then replicates."""
    def value_key(key: str, value) -> tuple:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (0, float(value))
        return (1, sweep.spec.grid[key].index(value))

    return sorted(sweep.runs, key=lambda run: ([value_key(key, run.values[key]) for key in sweep.spec.grid],
                                               run.index))


def _read_timeseries(run_dir: Path) -> pd.DataFrame:
    return read_table(table_path(run_dir, "timeseries"), expand("timeseries", *run_network_names(run_dir)))


def _write(frame: pd.DataFrame, path: Path) -> None:
    write_atomically(path, frame.to_csv(index=False, float_format=FLOAT_FORMAT))


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    mixed = [c for c in frame.columns if frame[c].dtype == object]  # a varied key with numbers and names
    frame = frame.astype({c: str for c in mixed})
    sink = pa.BufferOutputStream()
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    pq.write_table(table, sink, compression=PARQUET_COMPRESSION)
    write_atomically(path, sink.getvalue().to_pybytes())


def collect(sweep: Sweep, out: Path) -> dict[str, int]:
    """Write ``out/summary.csv`` and the combined time series (``out/timeseries.csv``, or ``.parquet`` when
    every run writes parquet); return how many runs are in each status."""
    rows, series, counts = [], [], {}
    for run in run_order(sweep):
        status, error = run_status(out, run.run_id)
        counts[status] = counts.get(status, 0) + 1
        row = {"run_id": run.run_id, "status": status, "seed": run.seed, "replicate": run.replicate,
               **_labels(sweep, run), "error": error}
        if status == "complete":
            timeseries = _read_timeseries(out / run.run_id)
            row.update(_metrics(timeseries))
            series.append(timeseries.assign(**{"run_id": run.run_id, "replicate": run.replicate,
                                               **_labels(sweep, run)}))
        rows.append(row)
    summary = pd.DataFrame(rows)
    _write(summary, out / "summary.csv")
    fmt = "parquet" if all(run.experiment.output.format == "parquet" for run in sweep.runs) else "csv"
    for other in ("csv", "parquet"):
        stale = out / f"timeseries.{other}"
        if (other != fmt or not series) and stale.exists():
            os.remove(stale)  # ours, from an earlier collect: it would describe runs now gone
    if series:
        combined = pd.concat(series, ignore_index=True)
        labels = ["run_id", "replicate", *sweep.varied]
        combined = combined[labels + [c for c in combined.columns if c not in labels]]
        (_write_parquet if fmt == "parquet" else _write)(combined, out / f"timeseries.{fmt}")
    return counts
