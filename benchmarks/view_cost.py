"""What seeing the cells costs (issue 17): drawing one frame, and how fast the model advances with the app's page
open against a headless run of the same experiment.

    .venv/bin/python benchmarks/view_cost.py frame                 # a frame of 10k cells on a 500 x 500 map
    .venv/bin/python benchmarks/view_cost.py live --side-um 1500    # the page open vs headless, side by side

frame: a synthetic frame of --cells cells (every stage, 1-12 nuclei) on a --pixels² depth map with pits, drawn
through the app's renderer (``boneabm.app.views.SurfaceRenderer``: the kept figure updated, laid out and encoded
as the PNG the page shows) --repeats times; also the drawing alone (``canvas.draw``, what a movie frame costs).
Target: < 100 ms per frame.

live: the shipped osteoclastogenesis assay on a --side-um square, advanced in blocks of one recorded hour,
alternately (a) headless, the model's steps alone in this process, for --hours simulated hours, and (b) in
``boneabm app`` with the page open in headless Chromium and playing (a frame drawn and sent every simulated hour)
for as long as (a) took, its simulated-time text read at each end. Each is repeated --repeats times, alternating so the machine's load falls
on both alike; the figures are medians. Target: (b) ≥ 80 % of (a).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path


def frame_cost(cells: int, pixels: int, repeats: int) -> None:
    import numpy as np
    import pandas as pd

    from boneabm.app.views import SurfaceRenderer
    from boneabm.snapshots import Frame

    rng = np.random.default_rng(1)
    site_um, side_um = 25.0, 25.0 * pixels / 5  # 5 bone pixels per site, as the default slice
    stages = rng.choice(["precursor", "preosteoclast", "multinucleated", "osteoclast"], cells, p=[.7, .2, .05, .05])
    nuclei = np.where(stages == "osteoclast", rng.integers(3, 13, cells),
                      np.where(stages == "multinucleated", 2, 1))
    depth = np.zeros((pixels, pixels), dtype=np.float32)
    for _ in range(200):  # pits
        x, y, r = rng.integers(0, pixels, 3)
        depth[max(0, x - r % 8):x + r % 8, max(0, y - r % 8):y + r % 8] = rng.uniform(0.1, 10)
    sites = pixels // 5

    def frame(seed: int) -> Frame:
        shift = np.random.default_rng(seed).uniform(0, 25, (cells, 2))
        table = pd.DataFrame({"time_h": 0.0, "lineage": "osteoclast", "cell_id": np.arange(cells),
                              "x_um": (rng.uniform(0, side_um, cells) + shift[:, 0]) % side_um,
                              "y_um": (rng.uniform(0, side_um, cells) + shift[:, 1]) % side_um,
                              "state": stages, "nuclei": nuclei})
        maps = {"mineral_depth_um": np.roll(depth, seed, axis=0), "collagen_depth_um": depth / 2,
                **{name: rng.uniform(0, 50, (sites, sites)).astype(np.float32)
                   for name in ("mcsf_ng_ml", "rankl_free_ng_ml", "opg_free_ng_ml", "antibody_free_ng_ml")}}
        return Frame(float(seed), table, maps, side_um, side_um)

    frames = [frame(i) for i in range(repeats + 1)]
    renderer = SurfaceRenderer(site_um)
    renderer.png(frames[0], "mineral_depth_um")  # the figure built once, as the page's first frame
    fig, view = renderer.views["mineral_depth_um"]
    page, page_cpu, whole, whole_cpu = [], [], [], []
    for f in frames[1:]:
        start, cpu = time.perf_counter(), time.thread_time()
        renderer.png(f, "mineral_depth_um")
        page.append(time.perf_counter() - start)
        page_cpu.append(time.thread_time() - cpu)
        start, cpu = time.perf_counter(), time.thread_time()
        view.update(f)
        fig.canvas.draw()
        whole.append(time.perf_counter() - start)
        whole_cpu.append(time.thread_time() - cpu)
    print(f"frame of {cells:,} cells on a {pixels} x {pixels} map, median of {repeats} (wall; CPU of this thread, "
          "which the machine's other load does not inflate):")
    for label, wall, cpu in (("as the page gets it (update, blit, PNG)", page, page_cpu),
                             ("the whole figure redrawn (canvas.draw)", whole, whole_cpu)):
        print(f"  {label}: {statistics.median(wall) * 1e3:6.1f} ms wall, {statistics.median(cpu) * 1e3:6.1f} ms CPU")
    print(f"  target < 100 ms for the page's frame: {'met' if statistics.median(page_cpu) < 0.1 else 'NOT met'} "
          "(CPU)")


def _config(folder: Path, side_um: float, hours: float) -> Path:
    import yaml

    from boneabm.catalog import find

    data = yaml.safe_load(find("osteoclastogenesis", "experiment").path.read_text())
    data.update(name="view_cost", seed=1)
    data["domain"] = {**data.get("domain", {}), "width_um": side_um, "height_um": side_um}
    data["time"] = {**data.get("time", {}), "duration_h": hours * 6}  # room to play past the window measured
    path = folder / "view_cost.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def headless_h_per_s(config: Path, hours: float) -> float:
    from boneabm.app.live import LiveModel

    model = LiveModel(config=str(config))
    model.step()  # warm-up: compiled or loaded kernels
    start_h, start = model.time_h, time.perf_counter()
    while model.time_h - start_h < hours - 1e-9:
        model.step()
    return (model.time_h - start_h) / (time.perf_counter() - start)


def page_h_per_s(config: Path, seconds: float, browser, folder: Path) -> float:
    """The page playing for ``seconds`` of wall time after a warm-up hour, its simulated time read once at each
    end (polling the page would load the browser, and so the machine, more than a person watching does)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from test_app import App, button, simulated_h, wait_for

    app = App(config, folder / "app.log")
    try:
        browser.get(app.url)
        wait_for(browser, lambda d: simulated_h(d) == 0.0, what="the live page")
        button(browser, "▶").click()
        wait_for(browser, lambda d: simulated_h(d) >= 1.0, what="the first hour")  # warm-up
        start_h, start = simulated_h(browser), time.perf_counter()
        time.sleep(seconds)
        end_h, elapsed = simulated_h(browser), time.perf_counter() - start
        button(browser, "❚❚").click()
        return (end_h - start_h) / elapsed
    finally:
        app.stop()


def live_cost(side_um: float, hours: float, repeats: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from test_app import chromium

    folder = Path(tempfile.mkdtemp(prefix="view-cost-"))
    config = _config(folder, side_um, hours)
    browser = chromium(folder / "chromium")
    headless, page = [], []
    try:
        for _ in range(repeats):  # alternating, so the shared machine's load falls on both
            headless.append(headless_h_per_s(config, hours))
            # as long as the headless run took, so both see the same stretch of the culture
            page.append(page_h_per_s(config, hours / headless[-1], browser, folder))
    finally:
        browser.quit()
    h, p = statistics.median(headless), statistics.median(page)
    print(f"osteoclastogenesis on {side_um:g} x {side_um:g} µm, {hours:g} simulated h per measurement, "
          f"median of {repeats}:")
    print(f"  headless:          {h:6.3f} simulated h/s  ({', '.join(f'{v:.3f}' for v in headless)})")
    print(f"  page open, playing: {p:6.3f} simulated h/s  ({', '.join(f'{v:.3f}' for v in page)})")
    ratios = [b / a for a, b in zip(headless, page)]
    print(f"  ratio of the medians {p / h:.0%}; each pair side by side: {', '.join(f'{r:.0%}' for r in ratios)}, "
          f"median {statistics.median(ratios):.0%} (target ≥ 80 %: "
          f"{'met' if statistics.median(ratios) >= 0.8 else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="what", required=True)
    frame = commands.add_parser("frame")
    frame.add_argument("--cells", type=int, default=10_000)
    frame.add_argument("--pixels", type=int, default=500)
    frame.add_argument("--repeats", type=int, default=15)
    live = commands.add_parser("live")
    live.add_argument("--side-um", type=float, default=1500.0)
    live.add_argument("--hours", type=float, default=12.0)
    live.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.what == "frame":
        frame_cost(args.cells, args.pixels, args.repeats)
    else:
        live_cost(args.side_um, args.hours, args.repeats)


if __name__ == "__main__":
    main()
