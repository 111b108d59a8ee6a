"""A sweep's tables, built from the run directories present: ``summary.csv`` (one row per run) and
``timeseries.csv`` (every complete run's time series, labelled).

Both are sorted by ``run_id`` and hold no wall times or host names, so the same sweep gives byte-identical
tables whatever ran it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from boneabm.output import FLOAT_FORMAT, partial_path, write_atomically
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


def _write(frame: pd.DataFrame, path: Path) -> None:
    write_atomically(path, frame.to_csv(index=False, float_format=FLOAT_FORMAT))


def collect(sweep: Sweep, out: Path) -> dict[str, int]:
    """Write ``out/summary.csv`` and ``out/timeseries.csv``; return how many runs are in each status."""
    rows, series, counts = [], [], {}
    for run in sorted(sweep.runs, key=lambda r: r.run_id):
        status, error = run_status(out, run.run_id)
        counts[status] = counts.get(status, 0) + 1
        row = {"run_id": run.run_id, "status": status, "seed": run.seed, "replicate": run.replicate,
               **_labels(sweep, run), "error": error}
        if status == "complete":
            timeseries = pd.read_csv(out / run.run_id / "timeseries.csv")
            row.update(_metrics(timeseries))
            series.append(timeseries.assign(**{"run_id": run.run_id, "replicate": run.replicate,
                                               **_labels(sweep, run)}))
        rows.append(row)
    summary = pd.DataFrame(rows)
    _write(summary, out / "summary.csv")
    if series:
        combined = pd.concat(series, ignore_index=True)
        labels = ["run_id", "replicate", *sweep.varied]
        _write(combined[labels + [c for c in combined.columns if c not in labels]], out / "timeseries.csv")
    elif (out / "timeseries.csv").exists():
        os.remove(out / "timeseries.csv")  # ours, from an earlier collect: it would describe runs now gone
    return counts
