"""Sweep throughput: a 40-run sweep with 1 and 2 local Dask workers against the same runs in one process,
giving the sweep engine's overhead per run and the speed-up this machine gives; and, from sweeps of two sizes
(``--fit``), the engine's fixed cost per sweep apart from its cost per run.

    .venv/bin/python benchmarks/sweep_throughput.py               # 3 repeats of each, medians
    .venv/bin/python benchmarks/sweep_throughput.py --repeats 1 --runs 20
    .venv/bin/python benchmarks/sweep_throughput.py --fit 4 20 --repeats 8   # fixed and per-run cost (1 worker vs
                                                                              # one process), interleaved

Every run is the in vitro assay on a 1 x 1 mm patch (~310 precursors, RANKL 50 ng/mL) for 48 h: about a
second of work, so the engine's fixed costs show. Each measurement runs in a fresh process (as a user's
command would, numba kernels loaded from the cache): "in one process" loops over the runs with
``boneabm.runner.execute`` and one numba thread; the sweeps are ``boneabm sweep --workers N``. The machine is
shared and noisy: read the medians and ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

IN_ONE_PROCESS = textwrap.dedent("""
    import sys
    from pathlib import Path
    from boneabm.runner import execute
    from boneabm.sweep import load_sweep
    sweep, out = load_sweep(sys.argv[1]), Path(sys.argv[2])
    for run in sweep.runs:
        execute(run.experiment, out / run.run_id)
""")


def write_sweep(folder: Path, n_runs: int) -> Path:
    path = folder / "throughput_sweep.yaml"
    path.write_text(yaml.safe_dump({
        "sweep": "throughput", "base": "osteoclastogenesis", "seed": 1,
        "replicates": n_runs,
        "set": ["domain.width_um=1000", "domain.height_um=1000", "time.duration_h=48", "time.snapshot_every_h=24"],
    }, sort_keys=False))
    return path


def timed(command: list[str], threads: int) -> float:
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def fit(sizes: list[int], repeats: int) -> None:
    """Sweeps of each size with one worker and the same runs in one process (one thread), interleaved; the
    lines through the medians give each one's fixed cost (intercept) and cost per run (slope)."""
    boneabm = [sys.executable, "-m", "boneabm"]
    walls: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sweeps = {}
        for n in sizes:
            folder = Path(tmp) / f"n{n}"
            folder.mkdir()
            sweeps[n] = str(write_sweep(folder, n))
        subprocess.run([*boneabm, "sweep", sweeps[sizes[0]], "--index", "0", "--out", f"{tmp}/warm"], check=True,
                       cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cases = {"one process": lambda n, out: timed([sys.executable, "-c", IN_ONE_PROCESS, sweeps[n], out], 1),
                 "sweep, 1 worker": lambda n, out: timed([*boneabm, "sweep", sweeps[n], "--out", out, "--workers",
                                                          "1", "--quiet"], 1)}
        for repeat in range(repeats):
            # interleaved, and in reversed order every other repeat, so a slow spell or a warming cache favours
            # neither case nor size
            order = [(case, n) for n in sizes for case in cases]
            for case, n in (order if repeat % 2 == 0 else order[::-1]):
                walls.setdefault((case, n), []).append(cases[case](n, f"{tmp}/{repeat}-{n}-{case[:3]}"))
            print(f"  repeat {repeat + 1}: " + ", ".join(f"{case} {n} runs {walls[case, n][-1]:.1f} s"
                                                         for case, n in order), file=sys.stderr)
    small, large = min(sizes), max(sizes)
    line = {}
    for case in cases:
        a, b = statistics.median(walls[case, small]), statistics.median(walls[case, large])
        per_run = (b - a) / (large - small)
        line[case] = (a - per_run * small, per_run)
        print(f"{case:<16} {small} runs {a:6.1f} s, {large} runs {b:6.1f} s (medians of {repeats}): "
              f"fixed {line[case][0]:5.1f} s + {per_run:.2f} s per run")
    (fixed_one, run_one), (fixed_sweep, run_sweep) = line["one process"], line["sweep, 1 worker"]
    print(f"sweep engine: fixed cost {fixed_sweep - fixed_one:+.1f} s per sweep (target <= 3 s), "
          f"{run_sweep - run_one:+.2f} s per run = {(run_sweep - run_one) / run_one:+.1%} of a run (target <= 5 %)")
    # the same from each repeat alone (its four timings taken back to back): the spread says how far to trust it
    per_repeat = []
    for k in range(repeats):
        slope = {case: (walls[case, large][k] - walls[case, small][k]) / (large - small) for case in cases}
        per_repeat.append((slope["sweep, 1 worker"] - slope["one process"]) / slope["one process"])
    per_repeat.sort()
    print(f"per-run overhead in each repeat: {', '.join(f'{r:+.1%}' for r in per_repeat)}; median "
          f"{statistics.median(per_repeat):+.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fit", type=int, nargs=2, metavar=("SMALL", "LARGE"),
                        help="sweeps of two sizes: the engine's fixed cost and cost per run")
    args = parser.parse_args()
    if args.fit:
        fit(sorted(args.fit), args.repeats)
        return
    boneabm = [sys.executable, "-m", "boneabm"]
    sweep_with = lambda n: lambda sweep, out: timed(  # noqa: E731
        [*boneabm, "sweep", sweep, "--out", out, "--workers", str(n), "--quiet"], 1)
    cases = {
        "one process, 1 thread": lambda sweep, out: timed([sys.executable, "-c", IN_ONE_PROCESS, sweep, out], 1),
        "one process, 2 threads": lambda sweep, out: timed([sys.executable, "-c", IN_ONE_PROCESS, sweep, out], 2),
        "sweep, 1 worker": sweep_with(1),
        "sweep, 2 workers": sweep_with(2),
    }
    walls: dict[str, list[float]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory() as tmp:
        sweep = str(write_sweep(Path(tmp), args.runs))
        subprocess.run([*boneabm, "sweep", sweep, "--index", "0", "--out", f"{tmp}/warm"], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # numba cache warm
        for repeat in range(args.repeats):  # interleaved, so a slow spell of the machine hits every case
            for name, case in cases.items():
                walls[name].append(case(sweep, f"{tmp}/{repeat}-{name.replace(' ', '_').replace(',', '')}"))
                print(f"  repeat {repeat + 1}: {name}: {walls[name][-1]:.1f} s", file=sys.stderr)
    median = {name: statistics.median(values) for name, values in walls.items()}
    base = median["one process, 1 thread"]
    print(f"{args.runs} runs (1 x 1 mm assay, 48 h), medians of {args.repeats}, {os.cpu_count()} CPUs")
    print(f"{'case':<24} {'wall s':>8} {'s per run':>10} {'runs per min':>13} {'speed-up':>9}")
    for name, wall in median.items():
        print(f"{name:<24} {wall:8.1f} {wall / args.runs:10.2f} {60 * args.runs / wall:13.1f} {base / wall:8.2f}x")
    overhead = (median["sweep, 1 worker"] - base) / args.runs
    print(f"sweep engine overhead per run (1 worker against one process): {overhead:+.2f} s "
          f"({overhead / (base / args.runs):+.0%} of a run)")
    print(f"2 workers against 1 worker: {median['sweep, 1 worker'] / median['sweep, 2 workers']:.2f}x")


if __name__ == "__main__":
    main()
