"""What a checkpoint costs: writing and reading one at 10k and 100k cells (time and file size), and the share of
a default assay's wall time that checkpointing every simulated day takes.

    .venv/bin/python benchmarks/checkpoint_cost.py                    # 10k and 100k cells, then the assay
    .venv/bin/python benchmarks/checkpoint_cost.py --sizes 10000 --no-assay

Each size plates its cells at half confluence on the assay's grid and runs one tick (so every column holds
real values); write is ``model.state()`` plus the atomic ``.npz`` write, load is ``state.load`` (file to
arrays), restore is ``BoneModel.from_state`` (agents included). Restoring builds a model first, and building
Mesa's grid of that many sites costs what it costs any new run: ``build`` (an empty model of the same
experiment) is that floor, printed beside it. Medians of ``--repeats``; the machine is shared, so read the
ratios. Targets (issue 12): < 2 s and < 200 MB at 100k cells; every-day checkpoints < 5 % of the assay.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path


def measure(n_cells: int, repeats: int) -> dict:
    from boneabm import state
    from boneabm.config import load_experiment
    from boneabm.model import BoneModel

    spacing = 25.0
    side_um = math.ceil(math.sqrt(2 * n_cells)) * spacing
    experiment = load_experiment(data={
        "seed": 1, "time": {"duration_h": 1, "dt_h": 0.1},
        "domain": {"width_um": side_um, "height_um": side_um, "grid_spacing_um": spacing},
        "precursors": {"plating_density_per_cm2": n_cells / (side_um**2 / 1e8)},
        "medium": {"mcsf_ng_ml": 30, "rankl_ng_ml": 50}})
    model = BoneModel(experiment)
    model.step()
    times = {"write": [], "load": [], "restore": [], "build": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoint.npz"
        for _ in range(repeats):
            start = time.perf_counter()
            state.save(model.state(), path)
            times["write"].append(time.perf_counter() - start)
            start = time.perf_counter()
            saved = state.load(path)
            times["load"].append(time.perf_counter() - start)
            start = time.perf_counter()
            restored = BoneModel.from_state(saved)
            times["restore"].append(time.perf_counter() - start)
            assert restored.population.n_alive == model.population.n_alive
            start = time.perf_counter()
            BoneModel(experiment, {"osteoclast": model.network}, plate=False)
            times["build"].append(time.perf_counter() - start)
        size_mb = path.stat().st_size / 1e6
    return {"cells": model.population.n_alive, "size_mb": size_mb,
            **{f"{name}_s": statistics.median(values) for name, values in times.items()}}


def assay_share() -> dict:
    """The default assay with a checkpoint every simulated day: time in checkpoints over the whole run."""
    import boneabm.runner as runner
    from boneabm.catalog import find
    from boneabm.config import load_experiment, with_seed

    spent = []
    write = runner._write_checkpoint

    def timed(*args):
        start = time.perf_counter()
        write(*args)
        spent.append(time.perf_counter() - start)

    runner._write_checkpoint = timed
    experiment = with_seed(load_experiment(find("osteoclastogenesis").path), 1)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        runner.execute(experiment, Path(tmp) / "run", checkpointing=runner.Checkpointing(24))
        wall = time.perf_counter() - start
    runner._write_checkpoint = write
    return {"wall_s": wall, "checkpoints": len(spent), "checkpoint_s": sum(spent),
            "share": sum(spent) / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-assay", action="store_true", help="skip the default assay")
    args = parser.parse_args()
    print(f"{'cells':>8} {'file MB':>8} {'write s':>8} {'load s':>8} {'restore s':>10} {'build s':>8} "
          f"{'restore - build':>16}")
    for n in args.sizes:
        row = measure(n, args.repeats)
        print(f"{row['cells']:>8} {row['size_mb']:>8.1f} {row['write_s']:>8.3f} {row['load_s']:>8.3f} "
              f"{row['restore_s']:>10.3f} {row['build_s']:>8.3f} {row['restore_s'] - row['build_s']:>16.3f}")
    if not args.no_assay:
        row = assay_share()
        print(f"default assay, a checkpoint every 24 h: {row['checkpoints']} checkpoints took "
              f"{row['checkpoint_s']:.2f} s of {row['wall_s']:.1f} s wall ({row['share']:.1%})")


if __name__ == "__main__":
    main()
