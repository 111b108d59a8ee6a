"""What seeing the cells costs (issue 17): drawing one frame, and how fast the model advances with the app's page
open against a headless run of the same experiment.

    .venv/bin/python benchmarks/view_cost.py frame                 # a frame of 10k cells on a 500 x 500 map
    .venv/bin/python benchmarks/view_cost.py live --side-um 1500    # the page open vs headless, side by side
    .venv/bin/python benchmarks/view_cost.py cpu --side-um 1500     # the page's CPU per frame drawn

frame: --repeats synthetic frames of --cells cells (every stage, 1-12 nuclei) on a --pixels² depth map with pits,
each map new: what the server spends packing each for the page (``boneabm.app.frames``), and what headless
Chromium spends drawing each in the app's surface view (on a page of its own, ``view_frame_page.py``). Target:
< 100 ms per frame, the two together. Also, for comparison, matplotlib drawing the same frames whole (a movie's).

live: the shipped osteoclastogenesis assay on a --side-um square, advanced in blocks of one recorded hour,
alternately (a) headless, the model's steps alone in this process, for --hours simulated hours and at least ten
frame intervals (2.5 s at --fps 4: the page's hour is known at its frames), and (b) in
``boneabm app --fps N`` with the page open in headless Chromium and playing (the newest hour drawn at most N times
a second) for as long as (a) took: the simulated hours between the first and last frame drawn in that time, over
the time between them (each frame's hour logged by the page as drawn). Each is repeated --repeats times,
alternating so the machine's load falls on both alike; the figures are medians. Target: (b) ≥ 80 % of (a).

cpu: the same page playing for --seconds, --repeats times: the CPU the page costs per frame drawn, a figure the
machine's load hardly changes (wall-time ratios it does). Read from /proc: the server's threads but the model's
two (the step thread and numba's OpenMP worker, its two busiest), and every process of the headless Chromium.
With --every-hour, also the model's two threads per simulated hour, page open and headless (alternating): their
CPU and the time they were ready to run but waiting for a core (/proc's schedstat), which is what the page's CPU
on the same cores costs the model.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


def synthetic_frames(cells: int, pixels: int, count: int):
    """``count`` frames of ``cells`` cells (every stage, 1-12 nuclei, moved between frames) on a ``pixels``²
    depth map with pits (shifted between frames, so every frame's map is new), and the site pitch (µm)."""
    import numpy as np
    import pandas as pd

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
        table = pd.DataFrame({"time_h": float(seed), "lineage": "osteoclast", "cell_id": np.arange(cells),
                              "x_um": (rng.uniform(0, side_um, cells) + shift[:, 0]) % side_um,
                              "y_um": (rng.uniform(0, side_um, cells) + shift[:, 1]) % side_um,
                              "state": stages, "nuclei": nuclei})
        maps = {"mineral_depth_um": np.roll(depth, seed, axis=0), "collagen_depth_um": depth / 2,
                **{name: rng.uniform(0, 50, (sites, sites)).astype(np.float32)
                   for name in ("mcsf_ng_ml", "rankl_free_ng_ml", "opg_free_ng_ml", "antibody_free_ng_ml")}}
        return Frame(float(seed), table, maps, side_um, side_um)

    return [frame(i) for i in range(count)], site_um


def server_ms(frames, site_um: float) -> tuple[list[float], list[float]]:
    """What packing each frame for the page costs the server (``frames.surface_payload``: the cells packed, the
    map reduced, coloured and outlined, as every frame's map here is new): wall and CPU ms."""
    from boneabm.app.frames import MapImages, surface_payload

    images = MapImages()
    surface_payload(frames[0], "mineral_depth_um", site_um, images)  # imports and colour maps loaded
    wall, cpu = [], []
    for f in frames[1:]:
        start, start_cpu = time.perf_counter(), time.thread_time()
        surface_payload(f, "mineral_depth_um", site_um, images)
        wall.append((time.perf_counter() - start) * 1e3)
        cpu.append((time.thread_time() - start_cpu) * 1e3)
    return wall, cpu


def movie_ms(frames, site_um: float) -> list[float]:
    """The same frames drawn whole by matplotlib (``draw.SurfaceView``, as ``boneabm animate`` and ``plot`` do):
    CPU ms."""
    from boneabm.draw import surface_figure

    fig, view = surface_figure(frames[0], "mineral_depth_um", site_um, dpi=80)
    cpu = []
    for f in frames[1:]:
        start = time.thread_time()
        view.update(f)
        fig.canvas.draw()
        cpu.append((time.thread_time() - start) * 1e3)
    return cpu


LOG_DRAWS = """
window.boneabmDraws = [];
new MutationObserver(records => {
  for (const record of records)
    window.boneabmDraws.push(parseFloat(record.target.getAttribute('data-draw-ms'))
                             + parseFloat(record.target.getAttribute('data-map-ms') || '0'));
}).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['data-frames']});
"""


def browser_ms(cells: int, pixels: int, repeats: int, folder: Path) -> list[float]:
    """What drawing each frame costs headless Chromium: the app's surface view (``canvas.SurfaceCanvas``) on a
    page of its own (``view_frame_page.py``) showing the frames in turn, each draw timed by the page itself
    (``data-map-ms``: taking in the map's pixels; ``data-draw-ms``: reading the packed cells, drawing the map and
    every cell)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from test_app import chromium, solara_page, wait_for

    env = {"VIEW_FRAME_CELLS": str(cells), "VIEW_FRAME_PIXELS": str(pixels), "VIEW_FRAME_COUNT": str(repeats + 1)}
    page = Path(__file__).resolve().parent / "view_frame_page.py"
    browser = chromium(folder / "chromium")
    try:
        with solara_page(page, folder / "page.log", env) as url:
            browser.get(url)
            # the first frame drawn (warming the page up) before the log starts; the rest logged as drawn
            wait_for(browser, lambda d: int(d.find_element("css selector", ".boneabm-surface-canvas")
                                            .get_attribute("data-frames")) >= 1, seconds=300, what="the first frame")
            browser.execute_script(LOG_DRAWS)
            drawn = wait_for(browser, lambda d: len(d.execute_script("return window.boneabmDraws")) >= repeats - 1
                             and d.execute_script("return window.boneabmDraws"), seconds=300,
                             what="every frame drawn")
    finally:
        browser.quit()
    return drawn


def frame_cost(cells: int, pixels: int, repeats: int) -> None:
    frames, site_um = synthetic_frames(cells, pixels, repeats + 1)
    wall, cpu = server_ms(frames, site_um)
    drawn = browser_ms(cells, pixels, repeats, Path(tempfile.mkdtemp(prefix="view-frame-")))
    movie = movie_ms(frames, site_um)
    median = statistics.median
    print(f"frame of {cells:,} cells on a {pixels} x {pixels} map (every frame's map new), median of {repeats}:")
    print(f"  the server packs it (cells, map reduced and coloured): {median(wall):6.1f} ms wall, "
          f"{median(cpu):6.1f} ms CPU")
    print(f"  the browser draws it (headless Chromium, software canvas): {median(drawn):6.1f} ms")
    print(f"  together {median(cpu) + median(drawn):.1f} ms: target < 100 ms "
          f"{'met' if median(cpu) + median(drawn) < 100 else 'NOT met'}")
    print(f"  (drawn whole by matplotlib, as a movie frame: {median(movie):6.1f} ms CPU)")


def _config(folder: Path, side_um: float, hours: float) -> Path:
    import yaml

    from boneabm.catalog import find

    data = yaml.safe_load(find("osteoclastogenesis", "experiment").path.read_text())
    data.update(name="view_cost", seed=1)
    data["domain"] = {**data.get("domain", {}), "width_um": side_um, "height_um": side_um}
    data["time"] = {**data.get("time", {}), "duration_h": max(hours * 6, 2000)}  # room to play past the window
    path = folder / "view_cost.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_headless(config: Path, hours: float, min_seconds: float) -> dict[str, float]:
    """The model's steps alone for ``hours`` simulated hours and at least ``min_seconds`` of wall time, warmed up
    as the app's server warms itself (``live.warm_up``: else the first run would also load the kernels of fusion
    and resorption, and its pair with the page came out at 106-192 %): simulated hours per second, the seconds
    taken, and per simulated hour the CPU ms of its two busiest threads (the step thread and numba's worker) and
    the ms they waited for a core."""
    import os

    from boneabm.app.live import LiveModel, warm_up

    warm_up(str(config))
    model = LiveModel(config=str(config))
    model.step()  # (not timed: the page is timed from after its first hour, playing_page)
    pid = os.getpid()
    cpu0, waiting0 = _threads_cpu_s(pid), _threads_waiting_s(pid)
    start_h, start = model.time_h, time.perf_counter()
    while model.time_h - start_h < hours - 1e-9 or time.perf_counter() - start < min_seconds:
        model.step()
    elapsed, hours_run = time.perf_counter() - start, model.time_h - start_h
    model_cpu_s, model_waiting_s, _ = _model_threads(cpu0, _threads_cpu_s(pid), waiting0, _threads_waiting_s(pid))
    return {"h_per_s": hours_run / elapsed, "seconds": elapsed, "model": model_cpu_s * 1e3 / hours_run,
            "model waiting": model_waiting_s * 1e3 / hours_run}


# Logs every frame the live page draws, (the browser's clock in ms, the simulated hour shown), as it is drawn:
# read once at the end, so measuring does not load the browser (polling it would, more than a person watching).
LOG_FRAMES = """
window.boneabmFrames = [];
new MutationObserver(records => {
  for (const record of records)
    window.boneabmFrames.push([performance.now(), parseFloat(record.target.getAttribute('data-hour'))]);
}).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['data-hour']});
return performance.now();
"""


@contextmanager
def playing_page(config: Path, browser, folder: Path, fps: float | None):
    """The app on ``config`` at ``fps`` (None: ``--every-hour``), its live page open in ``browser`` and playing
    past a warm-up hour; paused, blanked and stopped on leaving."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from test_app import App, button, simulated_h, wait_for

    app = App(config, folder / "app.log", ["--every-hour"] if fps is None else ["--fps", f"{fps:g}"])
    try:
        browser.get(app.url)
        wait_for(browser, lambda d: simulated_h(d) == 0.0, what="the live page")
        button(browser, "▶").click()
        wait_for(browser, lambda d: simulated_h(d) >= 1.0, what="the first hour")  # warm-up
        yield app
        button(browser, "❚❚").click()
    finally:
        # a page left open on a stopped server keeps trying to reconnect: blank it, so a headless measurement
        # that follows runs beside an idle browser, as the first one does
        browser.get("about:blank")
        app.stop()


def page_h_per_s(config: Path, seconds: float, browser, folder: Path, fps: float | None
                 ) -> tuple[float, float, int]:
    """The page playing for ``seconds`` of wall time after a warm-up hour: the simulated hours between the first
    and the last frame it drew in that time, over the browser's time between them (each frame shows the newest
    hour when drawn, so the ends are exact to a frame's latency, not to the frame interval); the frames drawn
    per second; and the recorded hours between the first and the last that it did not draw."""
    with playing_page(config, browser, folder, fps):
        start_ms = browser.execute_script(LOG_FRAMES)
        time.sleep(seconds)
        end_ms, frames = browser.execute_script("return [performance.now(), window.boneabmFrames]")
    frames = [(t, h) for t, h in frames if start_ms <= t <= end_ms]
    if len(frames) < 2:
        raise SystemExit(f"{len(frames)} frames drawn in the {seconds:.2f} s measured: too short a window; "
                         "give more --hours")
    (first_ms, first_h), (last_ms, last_h) = frames[0], frames[-1]
    skipped = round(last_h - first_h) + 1 - len({h for _, h in frames})  # (the assay records every hour)
    return ((last_h - first_h) / ((last_ms - first_ms) / 1e3), len(frames) / ((end_ms - start_ms) / 1e3),
            skipped)


def live_cost(side_um: float, hours: float, repeats: int, fps: float | None) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from test_app import chromium

    folder = Path(tempfile.mkdtemp(prefix="view-cost-"))
    config = _config(folder, side_um, hours)
    browser = chromium(folder / "chromium")
    headless, page, drawn, skipped = [], [], [], []
    min_seconds = 10.0 / (fps or 4.0)
    try:
        for _ in range(repeats):  # alternating, so the shared machine's load falls on both
            # at least ten frame intervals, so the page's rate is read from ten frames or more
            alone = run_headless(config, hours, min_seconds)
            headless.append(alone["h_per_s"])
            # as long as the headless run took, so both see the same stretch of the culture
            rate, frames_per_s, missed = page_h_per_s(config, alone["seconds"], browser, folder, fps)
            page.append(rate)
            drawn.append(frames_per_s)
            skipped.append(missed)
    finally:
        browser.quit()
    h, p = statistics.median(headless), statistics.median(page)
    pace = "--every-hour" if fps is None else f"--fps {fps:g}"
    print(f"osteoclastogenesis on {side_um:g} x {side_um:g} µm, {hours:g} simulated h per measurement and at "
          f"least {min_seconds:g} s, the page at {pace}, median of {repeats}:")
    print(f"  headless:          {h:6.3f} simulated h/s  ({', '.join(f'{v:.3f}' for v in headless)})")
    print(f"  page open, playing: {p:6.3f} simulated h/s  ({', '.join(f'{v:.3f}' for v in page)}), "
          f"drawing {', '.join(f'{v:.1f}' for v in drawn)} frames/s, skipping {', '.join(map(str, skipped))} "
          "of the recorded hours between its first and last frame")
    ratios = [b / a for a, b in zip(headless, page)]
    # the verdict is the interval's where there are pairs enough for one: the median alone says "met" as often
    # as not when the target is within the pairs' spread
    verdict = "" if len(ratios) >= 3 else f": {'met' if statistics.median(ratios) >= 0.8 else 'NOT met'}"
    print(f"  ratio of the medians {p / h:.0%}; each pair side by side: {', '.join(f'{r:.0%}' for r in ratios)}, "
          f"median {statistics.median(ratios):.0%} (target ≥ 80 %{verdict})")
    if len(ratios) >= 3:
        from spread import against, median_interval

        low, high = median_interval(ratios)
        print(f"  90 % bootstrap interval of the pairs' median: {low:.0%} to {high:.0%}; target ≥ 80 %: "
              f"{against(low, high, 0.8)}")


def _stat(path: Path) -> list[str] | None:
    """The fields of a /proc stat file after the command's name (None if the process or thread has ended)."""
    try:
        return path.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _cpu_s(fields: list[str] | None) -> float:
    """User + system CPU seconds of a /proc stat's fields."""
    import os

    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _threads_waiting_s(pid: int) -> dict[int, float]:
    """Each thread of process ``pid``: the seconds it has spent ready to run but waiting for a core (/proc's
    schedstat: on a core, waiting on a run queue, timeslices)."""
    waiting = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            waiting[int(task.name)] = int((task / "schedstat").read_text().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            pass
    return waiting


def _model_threads(cpu0: dict, cpu1: dict, waiting0: dict, waiting1: dict) -> tuple[float, float, float]:
    """Between two readings of a process's threads (``_threads_cpu_s``, ``_threads_waiting_s``): the CPU seconds
    of its two busiest threads (a model's step thread and numba's worker), the seconds those two waited for a
    core, and the CPU seconds of all its other threads."""
    used = {tid: cpu1[tid] - cpu0.get(tid, 0.0) for tid in cpu1}
    busiest = sorted(used, key=used.get, reverse=True)[:2]
    model_s = sum(used[tid] for tid in busiest)
    return (model_s, sum(waiting1.get(tid, 0.0) - waiting0.get(tid, 0.0) for tid in busiest),
            sum(used.values()) - model_s)


def _threads_cpu_s(pid: int) -> dict[int, float]:
    """Each thread of process ``pid``: its CPU seconds so far."""
    return {int(task.name): _cpu_s(_stat(task / "stat")) for task in Path(f"/proc/{pid}/task").iterdir()}


def _descendants(pid: int) -> list[int]:
    """The processes started by ``pid``, and by them, and so on (from /proc: each stat names its parent)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(entry / "stat")) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        started = children.get(todo.pop(), [])
        found.extend(started)
        todo.extend(started)
    return found


def page_cpu(config: Path, seconds: float, browser, folder: Path, fps: float | None) -> dict[str, float]:
    """The page playing for ``seconds`` after a warm-up hour: the CPU ms per frame drawn of the server's threads
    other than the model's two busiest (``page server``), of the model's two (``model``), and of all Chromium's
    processes (``chromium``); and the frames drawn and simulated hours a second."""
    with playing_page(config, browser, folder, fps) as app:
        # the server is the app's own process (``python -m boneabm app`` runs Solara in itself)
        server = app.process.pid
        chromium = _descendants(browser.service.process.pid)  # with the page's renderer
        threads0, waiting0 = _threads_cpu_s(server), _threads_waiting_s(server)
        chromium0 = sum(_cpu_s(_stat(Path(f"/proc/{pid}/stat"))) for pid in chromium)
        start_ms = browser.execute_script(LOG_FRAMES)
        time.sleep(seconds)
        threads1, waiting1 = _threads_cpu_s(server), _threads_waiting_s(server)
        chromium1 = sum(_cpu_s(_stat(Path(f"/proc/{pid}/stat"))) for pid in chromium)
        end_ms, frames = browser.execute_script("return [performance.now(), window.boneabmFrames]")
    model_s, model_waiting_s, server_s = _model_threads(threads0, threads1, waiting0, waiting1)
    frames = [(t, h) for t, h in frames if start_ms <= t <= end_ms]
    n = max(len(frames), 1)
    # (every hour drawn: a frame per simulated hour, so per frame is per hour)
    return {"page server": server_s * 1e3 / n, "model": model_s * 1e3 / n, "model waiting": model_waiting_s * 1e3 / n,
            "chromium": (chromium1 - chromium0) * 1e3 / n, "frames_per_s": len(frames) / ((end_ms - start_ms) / 1e3),
            "h_per_s": (frames[-1][1] - frames[0][1]) / ((frames[-1][0] - frames[0][0]) / 1e3) if len(frames) > 1
            else float("nan")}


def cpu_cost(side_um: float, seconds: float, repeats: int, fps: float | None) -> None:
    import os

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from test_app import chromium

    folder = Path(tempfile.mkdtemp(prefix="view-cpu-"))
    config = _config(folder, side_um, seconds * 100)
    runs, alone = [], []
    for i in range(repeats):  # a fresh browser each time: no renderer of the last page left to count
        browser = chromium(folder / f"chromium-{i}")
        try:
            runs.append(page_cpu(config, seconds, browser, folder, fps))
        finally:
            browser.quit()
        if fps is None:  # alternating with the page, so the machine's load falls on both
            alone.append(run_headless(config, 0.0, seconds))
    median = statistics.median
    pace = "--every-hour" if fps is None else f"--fps {fps:g}"
    print(f"osteoclastogenesis on {side_um:g} x {side_um:g} µm, the page playing for {seconds:g} s at {pace}, "
          f"median of {repeats} (load average {', '.join(f'{v:.2f}' for v in os.getloadavg())} at the end):")
    for what in ("page server", "chromium", "model"):
        values = [run[what] for run in runs]
        print(f"  {what:12s} {median(values):7.1f} ms CPU per frame drawn  ({', '.join(f'{v:.1f}' for v in values)})")
    print(f"  page, both  {median([r['page server'] + r['chromium'] for r in runs]):7.1f} ms CPU per frame drawn; "
          f"{median([r['frames_per_s'] for r in runs]):.1f} frames/s, "
          f"{median([r['h_per_s'] for r in runs]):.1f} simulated h/s")
    if fps is None:  # a frame an hour: where the model's time goes, against its steps alone
        for label, values in (("page open", runs), ("headless", alone)):
            print(f"  model, {label:9s} {median([r['model'] for r in values]):6.1f} ms CPU and "
                  f"{median([r['model waiting'] for r in values]):5.1f} ms waiting for a core per simulated hour "
                  f"(its two busiest threads; {median([r['h_per_s'] for r in values]):.1f} simulated h/s)")


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
    live.add_argument("--fps", type=float, default=4.0, help="the page's frame rate (boneabm app --fps)")
    live.add_argument("--every-hour", action="store_true", help="the page draws every hour (boneabm app --every-hour)")
    cpu = commands.add_parser("cpu")
    cpu.add_argument("--side-um", type=float, default=1500.0)
    cpu.add_argument("--seconds", type=float, default=10.0)
    cpu.add_argument("--repeats", type=int, default=3)
    cpu.add_argument("--fps", type=float, default=4.0, help="the page's frame rate (boneabm app --fps)")
    cpu.add_argument("--every-hour", action="store_true", help="the page draws every hour (boneabm app --every-hour)")
    args = parser.parse_args()
    if args.what != "frame" and args.every_hour:
        args.fps = None
    if args.what == "frame":
        frame_cost(args.cells, args.pixels, args.repeats)
    elif args.what == "cpu":
        cpu_cost(args.side_um, args.seconds, args.repeats, args.fps)
    else:
        live_cost(args.side_um, args.hours, args.repeats, args.fps)


if __name__ == "__main__":
    main()
