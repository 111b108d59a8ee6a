"""What writing and reading a run's tables costs as CSV and as parquet: file sizes, time spent in the recorder
(building the frames, typing them, writing them) and ``boneabm.load_run``.

    .venv/bin/python benchmarks/table_formats.py                      # the assay on 4 x 4 mm for 48 h
    .venv/bin/python benchmarks/table_formats.py --side-um 2000 --hours 24
    .venv/bin/python benchmarks/table_formats.py --snapshot-cells 100000   # one synthetic 100k-cell snapshot

The run is the shipped ``osteoclastogenesis`` experiment with the domain and duration given and the same seed in
both formats; the recorder's methods are timed by wrapping them. ``--snapshot-cells`` instead writes one
snapshot of that many synthetic cells (the rank network's columns) through each writer, against pandas'
``to_csv`` with ``%.10g`` (what boneabm wrote before floats kept their decimal point). The machine is shared:
read the ratios.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import boneabm
from boneabm import columns as registry
from boneabm.catalog import resolve
from boneabm.config import load_experiment
from boneabm.output import Recorder, TableWriter
from boneabm.runner import execute
from boneabm.signaling import load_network

TABLES = registry.TABLES


def timed_run(fmt: str, side_um: float, hours: float, out: Path) -> dict:
    spent = {"record": 0.0, "snapshot": 0.0, "take_events": 0.0, "finish": 0.0}
    written = {"append": 0.0, "close": 0.0}  # typing and writing frames, inside the recorder's methods
    originals = {name: getattr(Recorder, name) for name in spent}
    writer = {name: getattr(TableWriter, name) for name in written}

    def wrap(name, originals=originals, spent=spent):
        def method(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return originals[name](self, *args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start
        return method

    experiment = load_experiment(resolve("osteoclastogenesis", "experiment"), [
        f"domain.width_um={side_um}", f"domain.height_um={side_um}", f"time.duration_h={hours}", "seed=1",
        f"output.format={fmt}"])
    for name in spent:
        setattr(Recorder, name, wrap(name))
    for name in written:
        setattr(TableWriter, name, wrap(name, writer, written))
    try:
        start = time.perf_counter()
        path = execute(experiment, out / fmt)
        wall = time.perf_counter() - start
    finally:
        for name, method in originals.items():
            setattr(Recorder, name, method)
        for name, method in writer.items():
            setattr(TableWriter, name, method)
    start = time.perf_counter()
    run = boneabm.load_run(path)
    load = time.perf_counter() - start
    sizes = {table: (path / f"{table}.{fmt}").stat().st_size for table in TABLES}
    rows = {table: len(getattr(run, table)) for table in TABLES}
    return {"wall": wall, "recorder": sum(spent.values()), "writing": sum(written.values()), "load": load,
            "sizes": sizes, "rows": rows, **spent}


def synthetic_snapshot(n: int) -> tuple[pd.DataFrame, list]:
    rng = np.random.default_rng(1)
    columns = registry.expand("cells", *registry.network_names(load_network("rank")))
    data = {}
    for c in columns:
        if c.dtype == "category":
            data[c.name] = rng.choice(c.categories, n)
        elif c.dtype == "float64":
            data[c.name] = np.round(rng.random(n) * 100, rng.integers(0, 12))
        else:
            data[c.name] = rng.integers(0, 200, n)
    data["time_h"] = np.full(n, 48.0)
    data["cell_id"] = np.arange(n)
    return pd.DataFrame(data), columns


def snapshot_costs(n: int, repeats: int) -> None:
    frame, columns = synthetic_snapshot(n)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        cases = {
            "to_csv %.10g (before)": (lambda: frame.to_csv(folder / "before.csv", index=False, float_format="%.10g"),
                                      folder / "before.csv"),
            "csv writer": (lambda: _write(folder, "csv", frame, columns), folder / "cells.csv"),
            "parquet writer": (lambda: _write(folder, "parquet", frame, columns), folder / "cells.parquet"),
        }
        print(f"one snapshot of {n:,} cells ({len(columns)} columns), best of {repeats}:")
        for label, (case, path) in cases.items():
            best = min(_time(case) for _ in range(repeats))
            print(f"  {label:24s} {best:6.2f} s  {path.stat().st_size / 1e6:7.2f} MB")


def _write(folder: Path, fmt: str, frame: pd.DataFrame, columns: list) -> None:
    writer = TableWriter(folder, "cells", columns, fmt)
    writer.append(frame)
    writer.close()


def _time(case) -> float:
    start = time.perf_counter()
    case()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side-um", type=float, default=4000)
    parser.add_argument("--hours", type=float, default=48)
    parser.add_argument("--snapshot-cells", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.snapshot_cells:
        snapshot_costs(args.snapshot_cells, args.repeats)
        return
    with tempfile.TemporaryDirectory() as folder:
        results = {fmt: timed_run(fmt, args.side_um, args.hours, Path(folder)) for fmt in ("csv", "parquet")}
    csv, parquet = results["csv"], results["parquet"]
    print(f"osteoclastogenesis on {args.side_um:g} x {args.side_um:g} µm for {args.hours:g} h, seed 1")
    print(f"{'table':12s} {'rows':>9s} {'csv MB':>9s} {'parquet MB':>11s} {'ratio':>6s}")
    for table in TABLES:
        a, b = csv["sizes"][table], parquet["sizes"][table]
        print(f"{table:12s} {csv['rows'][table]:9,d} {a / 1e6:9.3f} {b / 1e6:11.3f} {b / a:6.2f}")
    a, b = sum(csv["sizes"].values()), sum(parquet["sizes"].values())
    print(f"{'all':12s} {'':9s} {a / 1e6:9.3f} {b / 1e6:11.3f} {b / a:6.2f}")
    for label, key in (("run wall s", "wall"), ("in the recorder s", "recorder"), ("  record", "record"),
                       ("  snapshot", "snapshot"), ("  take_events", "take_events"), ("  finish", "finish"),
                       ("  of which writing", "writing"), ("load_run s", "load")):
        print(f"{label:19s} csv {csv[key]:8.2f}   parquet {parquet[key]:8.2f}")


if __name__ == "__main__":
    main()
