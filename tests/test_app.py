"""boneabm app as a person uses it (issue 17): the command started on a loopback port, the page driven by a real
headless Chromium (the OS package, through Selenium). Each test saves a screenshot and checks it is not blank.
Without the browser these tests fail: .ci/run installs it."""

import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image, ImageChops

import boneabm

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SMALL = {"name": "app_live", "seed": 1, "medium": {"rankl_ng_ml": 50}, "domain": {"width_um": 500, "height_um": 500},
         "time": {"duration_h": 24, "snapshot_every_h": 12, "spatial_every_h": 6}}
# for the live page: room to play (hundreds of simulated hours a second), so the test pauses it, not its end
LONG = {**SMALL, "time": {**SMALL["time"], "duration_h": 20000}}


def chromium(user_data_dir: Path):
    """A headless Chromium driven through Selenium: no calls out of the machine (the closed network refuses
    them), a fresh profile in ``user_data_dir`` (benchmarks/view_cost.py starts it the same way)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     f"--user-data-dir={user_data_dir}", "--window-size=1400,1000"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            pytest.fail(f"{path} is missing: install the OS packages chromium and chromium-driver (.ci/run does)")
    driver = chromium(tmp_path_factory.mktemp("chromium"))
    yield driver
    driver.quit()


class App:
    def __init__(self, target: Path, log: Path, options: list[str] = ()):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.log = log.open("w")
        self.process = subprocess.Popen([sys.executable, "-m", "boneabm", "app", str(target), *options],
                                        stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        self.url = self.process.stdout.readline().strip()
        assert self.url.startswith("http://127.0.0.1:"), log.read_text()
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    assert response.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise AssertionError(f"the app did not answer at {self.url}: {log.read_text()}") from None
                time.sleep(0.5)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@contextmanager
def solara_page(page: Path, log: Path, env: dict | None = None):
    """``solara run`` serving the page file ``page`` on a free loopback port (its output in ``log``): yields the
    page's address once it answers, stops the server on leaving (benchmarks/view_cost.py serves its frame page
    so too)."""
    from boneabm.app.server import free_port

    port = free_port()
    with log.open("w") as output:
        server = subprocess.Popen([sys.executable, "-m", "solara", "run", str(page), "--host", "127.0.0.1", "--port",
                                   str(port), "--production", "--no-open", "--log-level", "warning"],
                                  stdout=output, stderr=output,
                                  env={**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false", **(env or {})})
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError(f"the page {page.name} did not start: {log.read_text()}") from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(15)


def screenshot(driver, path: Path) -> Path:
    """Save the page and check it is a drawn page: many colours, not one blank fill."""
    driver.save_screenshot(str(path))
    with Image.open(path) as image:
        colours = image.convert("RGB").getcolors(1 << 24)
    assert len(colours) > 200, f"{path}: a blank page ({len(colours)} colours)"
    return path


def differ(first: Path, second: Path, box: tuple[int, int, int, int] | None = None) -> bool:
    """Whether two screenshots differ anywhere (within ``box``, left, top, right, bottom, if given)."""
    with Image.open(first) as a, Image.open(second) as b:
        a, b = a.convert("RGB"), b.convert("RGB")
        if box is not None:
            a, b = a.crop(box), b.crop(box)
        return ImageChops.difference(a, b).getbbox() is not None


def blue_share(path: Path, box: tuple[int, int, int, int]) -> float:
    """The share of the pixels in ``box`` that are clearly blue."""
    with Image.open(path) as image:
        red, green, blue = (np.asarray(band, dtype=int) for band in image.convert("RGB").crop(box).split())
    return float(np.mean((blue > red + 60) & (blue > green + 30)))


def box_of(element) -> tuple[int, int, int, int]:
    rect = element.rect
    return (int(rect["x"]), int(rect["y"]), int(rect["x"] + rect["width"]), int(rect["y"] + rect["height"]))


# a fresh server's first page waits for its warm-up (live.warm_up), which compiles every kernel a culture needs:
# 53 s alone with numba's cache cold, longer beside the suite's other worker
def wait_for(driver, condition, seconds=300, what="the page"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = condition(driver)
        except Exception:  # noqa: BLE001 - the page is still being built
            value = None
        if value:
            return value
        if "Traceback" in driver.find_element("tag name", "body").text:
            break  # the page shows an error: no use waiting
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}; page text: {driver.find_element('tag name', 'body').text}")


def text_starting(driver, prefix: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.XPATH, f"//*[starts-with(normalize-space(text()), '{prefix}')]").text


def simulated_h(driver) -> float:
    return float(text_starting(driver, "simulated time:").split(":")[1].split("h")[0])


def frames_drawn(driver, view: str) -> int:
    """How many frames the browser has drawn in ``view`` ("surface" or "series") since the page loaded."""
    from selenium.webdriver.common.by import By

    return int(driver.find_element(By.CSS_SELECTOR, f".boneabm-{view}-canvas").get_attribute("data-frames"))


def drawn(driver) -> bool:
    """Whether both views have drawn a frame."""
    return frames_drawn(driver, "surface") > 0 and frames_drawn(driver, "series") > 0


def unchanged_for(driver, read, quiet_s: float, seconds: float = 60, what: str = "the page"):
    """What ``read(driver)`` gives once it has not changed for ``quiet_s`` (a playing model never lets the page's
    frames hold still: it draws several a second); fails after ``seconds``."""
    deadline, last, since = time.monotonic() + seconds, None, time.monotonic()
    while time.monotonic() < deadline:
        now = read(driver)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return now
        time.sleep(0.1)
    raise AssertionError(f"{what} still changed {seconds:g} s on (last {last})")


def held_still(driver) -> float:
    """The simulated hour shown once the page has drawn nothing new for 1.5 s."""
    return unchanged_for(driver, lambda d: (simulated_h(d), frames_drawn(d, "surface")), 1.5,
                         what="the hour shown after the pause")[0]


def hour_drawn(driver) -> float:
    """The simulated hour of the surface the browser drew last."""
    from selenium.webdriver.common.by import By

    return float(driver.find_element(By.CSS_SELECTOR, ".boneabm-surface-canvas").get_attribute("data-hour"))


def button(driver, label: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.XPATH, f"//button[normalize-space(.)='{label}']")


def choose(driver, label: str, entry: str) -> None:
    """Pick ``entry`` in the drop-down list labelled ``label`` (Vuetify's v-select, as Solara draws it)."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.XPATH, f"//label[normalize-space(.)='{label}']/ancestor::div[contains(@class, 'v-input')]"
                                  "[1]//div[contains(@class, 'v-select__slot')]").click()
    # a list opened before stays in the page, hidden: only the one just opened can be clicked
    item = f"//div[contains(@class, 'v-list-item__title')][normalize-space(.)='{entry}']"
    wait_for(driver, lambda d: [e for e in d.find_elements(By.XPATH, item) if e.is_displayed()],
             what=f"{entry} in the list {label}")[0].click()


# Keeps every state of the build indicator the page shows, from before the page's own scripts run: a model built
# in a fraction of a second (numba's cache warm) shows it too briefly for polling to catch.
WATCH_BUILDING = """
window.boneabmBuilding = [];
new MutationObserver(() => {
  for (const shown of document.querySelectorAll('.boneabm-building'))
    window.boneabmBuilding.push({text: shown.innerText, bar: shown.querySelector('.v-progress-linear') !== null,
                                 views: document.querySelectorAll('canvas').length});
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    config = folder / "long.yaml"
    config.write_text(yaml.safe_dump(LONG))
    app = App(config, folder / "app.log")
    yield app
    app.stop()


def test_play_advances_time_and_redraws_the_layers(browser, live_app, tmp_path):
    browser.get(live_app.url)
    wait_for(browser, lambda d: simulated_h(d) == 0.0 and drawn(d), what="the live page")
    before = {view: frames_drawn(browser, view) for view in ("surface", "series")}
    start = screenshot(browser, tmp_path / "live-start.png")
    button(browser, "▶").click()
    wait_for(browser, lambda d: simulated_h(d) >= 3.0, what="time to advance")
    button(browser, "❚❚").click()
    stopped = held_still(browser)  # the newest hour, drawn a frame's interval after the pause (later when loaded)
    # the surface (cells moved, divided, died) and the time series (new rows) were drawn again
    assert all(frames_drawn(browser, view) > before[view] for view in before)
    assert differ(start, screenshot(browser, tmp_path / "live-played.png"))
    assert stopped == int(stopped) and hour_drawn(browser) == stopped  # a frame is a recorded (whole) hour
    frames = frames_drawn(browser, "surface")
    time.sleep(2)
    assert simulated_h(browser) == stopped and frames_drawn(browser, "surface") == frames  # paused: nothing new
    button(browser, "Step").click()
    wait_for(browser, lambda d: simulated_h(d) == pytest.approx(stopped + 1.0), what="one step of one hour")


def test_a_parameter_set_before_reset_makes_the_new_culture(browser, live_app, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(live_app.url)
    wait_for(browser, lambda d: "RANKL 50 ng/mL" in text_starting(d, "this culture:"), what="the live page")
    # RANKL to its minimum, with the keyboard on the slider's thumb
    slider = browser.find_element(By.XPATH, "//label[normalize-space(.)='RANKL (ng/mL)']/ancestor::div"
                                  "[contains(@class, 'v-input')][1]//div[@role='slider']")
    slider.send_keys(Keys.HOME)
    choose(browser, "knockout or inhibitor", "rank_ko")
    assert "RANKL 50 ng/mL" in text_starting(browser, "this culture:")  # nothing changes before the reset
    button(browser, "Reset").click()
    wait_for(browser, lambda d: "RANKL 0 ng/mL" in text_starting(d, "this culture:")
             and "perturbation rank_ko" in text_starting(d, "this culture:"), what="the reset culture")
    assert simulated_h(browser) == 0.0
    screenshot(browser, tmp_path / "live-reset.png")


def test_building_a_model_shows_a_progress_bar_until_it_is_drawn(browser, tmp_path):
    """A server of its own: its first model is built with the kernels compiled (or loaded from numba's cache) by a
    throwaway culture (``live.warm_up``), long enough for the page to draw the indicator; a later page's model
    comes too fast."""
    from selenium.webdriver.common.by import By

    config = tmp_path / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL))
    app = App(config, tmp_path / "app.log")
    watch = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_BUILDING})
    try:
        browser.get(app.url)
        wait_for(browser, lambda d: simulated_h(d) == 0.0 and drawn(d), what="the live page")
        shown = browser.execute_script("return window.boneabmBuilding")
        assert shown, "no progress indicator while the first model was built"
        assert shown[0]["bar"] and "building the model" in shown[0]["text"]
        assert shown[0]["views"] == 0  # before anything was drawn: the page was not blank meanwhile
        assert not browser.find_elements(By.CSS_SELECTOR, ".boneabm-building")
        screenshot(browser, tmp_path / "built.png")
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": watch["identifier"]})
        app.stop()


# Run in a process of its own, so that nothing compiled or loaded by another test counts: each numba kernel of
# boneabm's and how many compiled versions it holds, after the warm-up and after 100 simulated hours of play.
COMPILED_DURING_PLAY = """
import importlib, pkgutil, sys
from numba.core.registry import CPUDispatcher
import boneabm
from boneabm.app import live

def compiled():
    kernels = {}
    for module in pkgutil.walk_packages(boneabm.__path__, "boneabm."):
        for name, value in vars(importlib.import_module(module.name)).items():
            if isinstance(value, CPUDispatcher):
                kernels[value.py_func.__module__ + "." + name] = len(value.overloads)
    return kernels

live.warm_up(sys.argv[1])
warmed = compiled()
model = live.LiveModel(config=sys.argv[1])
while model.time_h < 100:
    model.step()
from boneabm.app.frames import map_rgba
from boneabm.snapshots import EVENT_MAP
events, _, _ = model.bone.events()
map_rgba({"mineral_depth_um": model.bone.mineral_depth_um, EVENT_MAP: events}, "mineral_depth_um")
assert model.osteoclasts.counts()["fusions_total"] > 0 and model.bone.mineral_depth_um.max() > 0
print(sorted(name for name, n in compiled().items() if n > warmed.get(name, 0)))
"""


def test_the_warm_up_compiles_what_a_culture_needs_so_play_never_stops_to_compile(tmp_path):
    """Once the server's warm-up is done, the live culture fuses, resorbs and has its pits found and its map
    coloured (100 h) without compiling or loading one more kernel: a kernel compiled mid-play froze the page for
    seconds, a pause waiting for the step (a warm-up of one step left fusion's and resorption's kernels for the
    first fusion and pit)."""
    config = tmp_path / "long.yaml"
    config.write_text(yaml.safe_dump(LONG))
    done = subprocess.run([sys.executable, "-c", COMPILED_DURING_PLAY, str(config)], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"compiled during play: {done.stdout}"


def test_a_model_being_built_says_so_to_the_page(tmp_path):
    """A reset's model is built inside Mesa's button handler, in milliseconds once the kernels are compiled: too
    fast to catch in the browser, so what the page renders from (``building``) is watched here."""
    from boneabm.app.live import LiveModel, building

    config = tmp_path / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL))
    seen = []
    unsubscribe = building.subscribe(seen.append)
    try:
        LiveModel(config=str(config))
    finally:
        unsubscribe()
    assert len(seen) == 2 and seen[0].startswith("building the model") and seen[1] == ""
    assert building.value == ""


def test_a_map_layer_chosen_redraws_the_surface_on_it(browser, live_app, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(live_app.url)
    wait_for(browser, lambda d: simulated_h(d) == 0.0 and drawn(d), what="the live page")
    before = {view: frames_drawn(browser, view) for view in ("surface", "series")}
    surface = browser.find_element(By.CSS_SELECTOR, ".boneabm-surface-canvas canvas")
    depth = screenshot(browser, tmp_path / "layer-depth.png")
    choose(browser, "map layer", "rankl_free_ng_ml")
    wait_for(browser, lambda d: frames_drawn(d, "surface") > before["surface"]
             and "free RANKL (ng/mL)" in d.find_element(By.CSS_SELECTOR, ".boneabm-surface-canvas").text,
             what="the surface on free RANKL")
    rankl = screenshot(browser, tmp_path / "layer-rankl.png")
    assert differ(depth, rankl, box_of(surface))
    # nothing is resorbed yet (magma's black) while the medium's RANKL fills the patch (matplotlib's Blues)
    assert blue_share(depth, box_of(surface)) < 0.05 and blue_share(rankl, box_of(surface)) > 0.15
    assert frames_drawn(browser, "series") == before["series"]  # the time series was not drawn again


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    return boneabm.run(SMALL, out=tmp_path_factory.mktemp("replay") / "run").path


def test_a_run_replays_with_a_time_slider(browser, finished_run, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    app = App(finished_run, tmp_path / "app.log")
    try:
        browser.get(app.url)
        wait_for(browser, lambda d: simulated_h(d) == 0.0 and drawn(d), what="the replay page")
        start = screenshot(browser, tmp_path / "replay-start.png")
        browser.find_element(By.XPATH, "//div[@role='slider']").send_keys(Keys.END)
        wait_for(browser, lambda d: simulated_h(d) == 24.0, what="the last snapshot")
        wait_for(browser, lambda d: hour_drawn(d) == 24.0, what="the surface at 24 h")
        assert differ(start, screenshot(browser, tmp_path / "replay-end.png"))
    finally:
        app.stop()


def test_the_surface_draws_a_known_frame_pixel_for_pixel(browser, tmp_path):
    """The surface view's own drawing of cells on a map, read back from its canvas: the map scaled to the canvas
    with its rows from the top (y up), each cell a disc in its stage's colour at 85 % opacity, the later groups
    (osteoclasts) over the earlier (precursors), an osteoclast's edge outlined, and nothing outside the cells
    changed (tests/data/known_frame_page.py: one pixel a µm)."""
    page = Path(__file__).resolve().parent / "data" / "known_frame_page.py"
    with solara_page(page, tmp_path / "page.log") as url:
        browser.get(url)
        wait_for(browser, lambda d: frames_drawn(d, "surface") > 0, what="the known frame")
        screenshot(browser, tmp_path / "known-frame.png")
        pixels = browser.execute_script("""
            const canvas = document.querySelector('.boneabm-surface-canvas canvas');
            const context = canvas.getContext('2d');
            return arguments[0].map(([x, y]) => Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3)));""",
            [[400, 50], [50, 400], [100, 100], [113, 100], [300, 340], [320, 340], [329, 340], [330, 340],
             [335, 340]])
    (top_right, bottom_left, precursor, beside, osteoclast, inside, edge, just_out, background) = (
        np.array(p, dtype=float) for p in pixels)
    assert top_right.tolist() == [30, 200, 30] and bottom_left.tolist() == [30, 30, 200]  # the map, rows from the top
    grey, purple = np.array([0x8C, 0x96, 0xA3]), np.array([0x9C, 0x1D, 0xE7])  # precursor, osteoclast (≥ 3 nuclei)
    np.testing.assert_allclose(precursor, 0.15 * np.array([200, 30, 30]) + 0.85 * grey, atol=2)  # (100, 340) µm
    assert beside.tolist() == [200, 30, 30]  # 13 px from a cell of 10: the map alone
    under = 0.15 * np.array([220, 220, 220]) + 0.85 * grey  # the precursor under the osteoclast, both at (300, 100)
    np.testing.assert_allclose(osteoclast, 0.15 * under + 0.85 * purple, atol=2)
    np.testing.assert_allclose(inside, 0.15 * np.array([220, 220, 220]) + 0.85 * purple, atol=2)  # 20 µm out
    assert background.tolist() == [220, 220, 220]
    # the outline: the disc's last pixel and the map's first outside, each darker than what it borders
    assert edge.sum() < inside.sum() - 30 and just_out.sum() < background.sum() - 60


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    """A two-run sweep of the small experiment, RANKL 0 and 100 ng/mL, run as a person would."""
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "base.yaml").write_text(yaml.safe_dump(SMALL))
    (folder / "sweep.yaml").write_text(yaml.safe_dump({"sweep": "app_sweep", "base": "base.yaml", "seed": 3,
                                                       "grid": {"medium.rankl_ng_ml": [0, 100]}}))
    out = folder / "out"
    result = subprocess.run([sys.executable, "-m", "boneabm", "sweep", str(folder / "sweep.yaml"), "--workers", "1",
                             "--out", str(out), "--quiet"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return out


def test_a_sweeps_runs_replay_each_picked_from_the_list(browser, finished_sweep, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    app = App(finished_sweep, tmp_path / "app.log")
    try:
        browser.get(app.url)
        wait_for(browser, lambda d: simulated_h(d) == 0.0 and drawn(d), what="the replay page")
        body = browser.find_element(By.TAG_NAME, "body")
        assert str(finished_sweep.resolve() / "rankl_ng_ml=0__rep0") in body.text  # the first run, by name
        first = {view: frames_drawn(browser, view) for view in ("surface", "series")}
        start = screenshot(browser, tmp_path / "sweep-first.png")
        choose(browser, "run of the sweep", "rankl_ng_ml=100__rep0")
        wait_for(browser, lambda d: str(finished_sweep.resolve() / "rankl_ng_ml=100__rep0") in d.find_element(
            By.TAG_NAME, "body").text, what="the second run")
        # its own seed plates other cells, and its RANKL line is not the first run's zero
        wait_for(browser, lambda d: all(frames_drawn(d, view) > first[view] for view in first),
                 what="the second run drawn")
        assert simulated_h(browser) == 0.0 and hour_drawn(browser) == 0.0
        picked = screenshot(browser, tmp_path / "sweep-second.png")
        assert differ(start, picked)
        browser.find_element(By.XPATH, "//div[@role='slider']").send_keys(Keys.END)
        wait_for(browser, lambda d: simulated_h(d) == 24.0, what="the second run's last snapshot")
        wait_for(browser, lambda d: hour_drawn(d) == 24.0, what="the second run's surface at 24 h")
        assert differ(picked, screenshot(browser, tmp_path / "sweep-second-end.png"))
    finally:
        app.stop()


def test_bad_targets_exit_2_naming_them_with_nothing_written(finished_run, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(finished_run, bare)
    shutil.rmtree(bare / "snapshots")
    stray = tmp_path / "notes.txt"
    stray.write_text("not an experiment: [")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    for target, named in ((tmp_path, "neither an experiment file nor a run or sweep directory"),
                          (bare, "no spatial snapshots"), (stray, str(stray)),
                          (tmp_path / "missing.yaml", "no such experiment file")):
        result = subprocess.run([sys.executable, "-m", "boneabm", "app", str(target)], capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("boneabm: error: ") and named in result.stderr.splitlines()[0]
        assert "Traceback" not in result.stderr and result.stdout == ""  # no address: no server started
        if target != stray:  # (the YAML parser's own account of where it failed takes more lines)
            assert result.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_the_live_culture_uses_the_configs_seed_and_a_fixed_one_when_it_names_none(tmp_path):
    """A config that names a seed is run live with that seed (a reset shows that culture again); one that names
    none gets the same fixed seed every time, never a fresh random one."""
    from boneabm.app.live import LIVE_SEED, LiveModel, model_params
    from boneabm.config import load_experiment

    named, unnamed = tmp_path / "named.yaml", tmp_path / "unnamed.yaml"
    named.write_text(yaml.safe_dump({**SMALL, "seed": 7}))
    unnamed.write_text(yaml.safe_dump({key: value for key, value in SMALL.items() if key != "seed"}))
    assert model_params(str(named), load_experiment(str(named)))["seed"] == 7
    assert model_params(str(unnamed), load_experiment(str(unnamed)))["seed"] == LIVE_SEED
    seven = LiveModel(config=str(named), seed=7)
    assert seven.experiment.seed == 7 and seven.population.n_alive > 0


# Counts every frame the surface view draws, with its hour, as it is drawn (not by polling the page).
WATCH_FRAMES = """
window.boneabmFrames = [];
new MutationObserver(records => {
  for (const record of records)
    if (record.target.classList.contains('boneabm-surface-canvas'))
      window.boneabmFrames.push(parseFloat(record.target.getAttribute('data-hour')));
}).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['data-frames']});
"""


@contextmanager
def playing(browser, folder: Path, options: list[str], pace: str):
    """The app on a culture with room to play (``LONG``) started with ``options``, its page open in ``browser``,
    saying ``pace`` of how it draws, its frames' hours watched (``WATCH_FRAMES``) and ▶ pressed; stopped on
    leaving."""
    config = folder / "long.yaml"
    config.write_text(yaml.safe_dump(LONG))
    app = App(config, folder / "app.log", options)
    try:
        browser.get(app.url)
        wait_for(browser, lambda d: simulated_h(d) == 0.0 and drawn(d), what="the live page")
        assert pace in text_starting(browser, "simulated time:")
        browser.execute_script(WATCH_FRAMES)
        button(browser, "▶").click()
        yield app
    finally:
        app.stop()


def test_the_live_page_draws_at_most_its_frame_rate_each_frame_the_newest_hour(browser, tmp_path):
    """With --fps 2 and a model that advances hundreds of simulated hours a second, the page draws no more than
    two frames per wall second, and each is the newest hour: hours are skipped, not queued."""
    with playing(browser, tmp_path, ["--fps", "2"], "at most 2 frames a second"):
        started, first = time.monotonic(), frames_drawn(browser, "surface")
        time.sleep(6)
        frames, elapsed_s = frames_drawn(browser, "surface") - first, time.monotonic() - started
        button(browser, "❚❚").click()
        hours = browser.execute_script("return window.boneabmFrames")
        # (one more for a frame under way at each end)
        assert 2 <= frames <= 2 * elapsed_s + 2, f"{frames} frames in {elapsed_s:.1f} s at --fps 2"
        assert all(later > earlier for earlier, later in zip(hours, hours[1:])), hours
        assert hours[-1] - hours[0] > len(hours), f"every hour drawn, none skipped: {hours}"
        screenshot(browser, tmp_path / "paced.png")


def settled_frames(driver, more_than: int = 0, quiet_s: float = 1.0) -> list[float]:
    """The hours of the frames drawn (``WATCH_FRAMES``), once more than ``more_than`` are and none has been drawn
    for ``quiet_s``."""
    wait_for(driver, lambda d: len(d.execute_script("return window.boneabmFrames")) > more_than,
             what=f"more than {more_than} frames drawn")
    return unchanged_for(driver, lambda d: d.execute_script("return window.boneabmFrames"), quiet_s,
                         what="the frames drawn")


def test_with_every_hour_the_live_page_draws_each_recorded_hour_in_order(browser, tmp_path):
    """With --every-hour and a model that could advance hundreds of simulated hours a second, the page draws every
    recorded hour, one after the other, none skipped: the model waits for the page."""
    with playing(browser, tmp_path, ["--every-hour"], "every hour"):
        time.sleep(5)
        drawn_at_pause = len(browser.execute_script("return window.boneabmFrames"))
        button(browser, "❚❚").click()
        wait_for(browser, lambda d: button(d, "Step").is_enabled(), what="the pause")
        hours = settled_frames(browser)
        assert len(hours) >= 10, f"{len(hours)} frames drawn in 5 s: {hours}"
        assert hours == [float(h) for h in range(int(hours[0]), int(hours[0]) + len(hours))], hours
        # drawn after the pause: only the hours under way while it reached the model (the page draws tens a second
        # here; that the model waits for the views is tested apart, without a browser, below)
        assert len(hours) - drawn_at_pause <= 50, (drawn_at_pause, len(hours))
        button(browser, "Step").click()  # one hour more, drawn, and no other
        assert settled_frames(browser, more_than=len(hours))[len(hours):] == [hours[-1] + 1.0]
        screenshot(browser, tmp_path / "every_hour.png")


def test_a_frame_rate_with_every_hour_is_exit_2_before_any_server_starts(tmp_path):
    config = tmp_path / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL))
    result = subprocess.run([sys.executable, "-m", "boneabm", "app", str(config), "--fps", "4", "--every-hour"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("boneabm: error: --fps 4 with --every-hour") and result.stdout == ""


def test_a_bad_frame_rate_is_exit_2_before_any_server_starts(tmp_path):
    config = tmp_path / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL))
    for fps in ("0", "-1", "100"):
        result = subprocess.run([sys.executable, "-m", "boneabm", "app", str(config), "--fps", fps],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"boneabm: error: --fps {fps}") and result.stdout == ""


class FakeTime:
    """A clock and a cancel event in simulated seconds: waiting advances the clock, cancelled at ``end_s``."""

    def __init__(self, end_s: float):
        self.now_s, self.end_s = 0.0, end_s

    def clock(self) -> float:
        return self.now_s

    def is_set(self) -> bool:
        return self.now_s >= self.end_s

    def wait(self, seconds: float) -> None:
        self.now_s += seconds


@pytest.mark.parametrize("show_s", [0.03, 0.4])
def test_pacing_shows_at_most_one_frame_a_period_each_the_newest(show_s):
    """``paced`` against a model advancing 100 hours a clock second, showing at 4 frames a second a frame that
    takes ``show_s`` to show (0.4 s: longer than the period, which delays the next, never queues it)."""
    from boneabm.app.pacing import paced

    fake = FakeTime(end_s=10.0)
    newest = lambda: int(fake.now_s * 100)  # noqa: E731 - the model's hour
    shown = []

    def show():
        hour = newest()  # what is copied out is the newest hour at that moment
        fake.now_s += show_s
        shown.append((fake.now_s, hour))
        return hour

    paced(fake, newest, show, 4.0, clock=fake.clock)
    assert len(shown) <= 10.0 / max(0.25, show_s) + 1
    assert len(shown) >= 10.0 / max(0.25, show_s) - 1
    assert all(b[1] - a[1] >= 25 for a, b in zip(shown, shown[1:]))  # a quarter second of hours apart: skipped


def test_pacing_shows_nothing_new_while_the_model_is_paused():
    from boneabm.app.pacing import paced

    fake = FakeTime(end_s=5.0)
    shown = []

    def newest():  # the model advances for the first second, then is paused at hour 7
        return min(int(fake.now_s * 7), 7)

    def show():
        shown.append(newest())
        return shown[-1]

    paced(fake, newest, show, 4.0, clock=fake.clock)
    assert shown[-1] == 7 and shown.count(7) == 1 and len(shown) <= 5


def finishes(call, seconds: float = 10.0):
    """``call()``'s result, called in a thread that must finish within ``seconds``: a wait that should not
    happen fails the test instead of hanging it."""
    import threading

    result = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive() and result, f"{call} did not finish within {seconds} s"
    return result[0]


def eventually(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_each_hour_shows_every_state_in_order_with_two_frames_under_way():
    """``each_hour`` shows each state after the last it showed, and sends the next only once the browser has
    drawn the one before the last (asked by the frame's number, not its hour): with a browser one frame behind,
    the numbers it is asked for run two behind the frames sent; with a browser that draws nothing, two frames are
    sent and no more."""
    import threading

    from boneabm.app.pacing import UNDER_WAY, each_hour

    cancel, asked, waited_for = threading.Event(), [], []

    def show_after(after_h):
        asked.append(after_h)
        hour = 0.0 if after_h is None else after_h + 1.0
        if hour >= 30:
            cancel.set()
        return hour, 100 + len(asked)  # the number the browser will say back: not the hour

    def drawn(number, timeout_s):  # a browser that has drawn every frame but the last sent
        waited_for.append(number)
        return number <= 100 + len(asked) - 1

    each_hour(cancel, show_after, drawn)
    assert asked == [None, *[float(h) for h in range(30)]]
    # after each frame but the first (and the last, shown as it was cancelled): the frame before it, by number
    assert waited_for == list(range(101, 130)), waited_for

    stalled, sent = threading.Event(), []
    waiter = threading.Thread(target=each_hour, args=(
        stalled, lambda after_h: sent.append(after_h) or (float(len(sent)), 100 + len(sent)),
        lambda number, timeout_s: stalled.wait(timeout_s)))
    waiter.start()
    assert eventually(lambda: len(sent) == UNDER_WAY)
    time.sleep(0.2)
    stalled.set()
    waiter.join(5)
    assert len(sent) == UNDER_WAY == 2, sent


def test_the_frames_sent_are_numbered_for_good_and_an_older_frames_word_counts_for_nothing():
    """The browser says back the number of each frame it drew (with every hour drawn, the next is sent once the
    one before the last is drawn). The numbers go on across the models a view shows (a reset starts the hours
    again, not the numbers), and word of an older frame arriving late does not take back a newer one's."""
    from boneabm.app.live_views import Fed

    fed = Fed(frame=None)
    for hour in (5.0, 6.0, 0.0):  # (a reset before the third: its hours start again)
        fed.show(frame={"time_h": hour})
    assert fed.sent == 3 and fed.props["frame"] == {"time_h": 0.0, "number": 3}
    fed.took_drawn(3)
    fed.took_drawn(1)  # late
    assert fed.drawn(3, 0.0) and fed.drawn(2, 0.0) and not fed.drawn(4, 0.01)


class SteppingModel:
    """A stand-in for ``LiveModel`` as the handoff sees it: a lock held while it steps, an hour and its history
    (what ``copy_out``, reduced by ``copied_hours``, reads), played in a thread of its own as ▶ plays it: a step,
    then ``wait_for_views``."""

    def __init__(self, step_s: float):
        import threading

        from boneabm.app.handoff import Handoff

        self.lock, self.time_h, self.step_s, self.history = threading.Lock(), 0.0, step_s, []
        self.handoff = Handoff(self.lock)
        self.stop = threading.Event()

    def step(self) -> None:
        with self.lock:
            time.sleep(self.step_s)
            self.time_h += 1.0
            self.history.append({"time_h": self.time_h})
            self.handoff.offer(self)

    def play(self) -> None:
        while not self.stop.is_set():
            self.step()
            self.handoff.wait_for_views(self.stop)


@pytest.fixture
def copied_hours(monkeypatch):
    """``copy_out`` reduced to what these tests read: the model's hour (and the layer)."""
    import boneabm.app.handoff as handoff

    monkeypatch.setattr(handoff, "copy_out", lambda model, layer: handoff.Copied(model.time_h, layer, [], None, None,
                                                                                    len(model.history)))


def test_the_views_are_handed_a_newer_state_at_each_steps_end_while_the_model_plays(copied_hours):
    """The model takes its lock again at once after each step (as ▶ does): each time the views ask, they are
    handed a state later than the one they were shown, with the history rows recorded by then, within about a
    step."""
    import threading

    model = SteppingModel(step_s=0.05)
    cancel, hours, waits = threading.Event(), [], []
    model.handoff.open(taker=cancel)
    player = threading.Thread(target=model.play)
    player.start()
    try:
        for _ in range(20):
            started = time.monotonic()
            after_h = hours[-1] if hours else None
            copied = finishes(lambda: model.handoff.take(model, "mineral_depth_um", cancel, after_h=after_h,
                                                         taker=cancel))
            waits.append(time.monotonic() - started)
            hours.append(copied.time_h)
            assert copied.history_rows == copied.time_h  # the rows recorded by then, no more
    finally:
        model.stop.set()
        player.join(5)
    assert all(later > earlier for earlier, later in zip(hours, hours[1:])), hours
    assert statistics.median(waits) < 0.05 * 1.5 and max(waits) < 1.0, waits  # the rest of the step under way


def test_with_every_hour_the_model_waits_for_the_views_between_steps_and_goes_on_once_they_stop(copied_hours):
    """Every hour wanted: the views take each state in order, and a playing model steps on while at most one
    waits to be taken; Step (a step outside ▶) never waits, its state queued; a views' thread that another has
    replaced can neither take nor release the model."""
    import threading

    model = SteppingModel(step_s=0.001)
    cancel, older = threading.Event(), threading.Event()
    model.handoff.open(taker=older)
    model.handoff.open(taker=cancel)  # (a reset or another layer: a new views' thread)
    assert model.handoff.take(model, "mineral_depth_um", older, every_hour=True, taker=older) is None
    take = lambda after_h: finishes(lambda: model.handoff.take(  # noqa: E731
        model, "mineral_depth_um", cancel, every_hour=True, after_h=after_h, taker=cancel))
    hours = [take(None).time_h]  # (not stepping: copied now)
    for _ in range(3):  # Step, three times, with the views behind: queued, not waited for
        finishes(lambda: model.step() or True)
    assert [take(float(h)).time_h for h in range(3)] == [1.0, 2.0, 3.0]
    hours.append(3.0)
    player = threading.Thread(target=model.play)
    player.start()
    try:
        for _ in range(30):
            time.sleep(0.005)  # the views slower than the model: it waits for them
            hours.append(take(hours[-1]).time_h)
        assert hours == [0.0, *[float(h) for h in range(3, 34)]], hours
        assert model.time_h <= hours[-1] + 2  # one state queued and one step under way
        model.handoff.close(taker=older)  # the replaced thread stopping: the model still waits
        time.sleep(0.1)
        assert model.time_h <= hours[-1] + 2
        model.handoff.close(taker=cancel)
        assert eventually(lambda: model.time_h > hours[-1] + 20)  # nobody takes: the steps go on
    finally:
        model.stop.set()
        player.join(5)


def test_the_live_frame_is_the_models_surface(tmp_path):
    """What the live view copies out of a model (``live_frame``) is the snapshot ``frame_of`` takes: the same
    cells where they are, in the same stages (packed, the same bytes as the snapshot's table packed), and the
    same maps."""
    from boneabm.app.frames import cells_payload
    from boneabm.app.handoff import copy_out
    from boneabm.app.live import LiveModel
    from boneabm.app.live_views import Resorption, live_frame
    from boneabm.snapshots import EVENT_MAP, frame_of

    config = tmp_path / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL))
    model = LiveModel(config=str(config))
    for _ in range(12):
        model.step()
    snapshot = frame_of(model)
    spacing_um = model.experiment.domain.grid_spacing_um
    for name in ("mineral_depth_um", "rankl_free_ng_ml"):
        frame, cells, title = live_frame(copy_out(model, name), model, Resorption())
        assert frame.time_h == snapshot.time_h == 12.0 and title.startswith("0.50 d (12.0 h)")
        assert cells == cells_payload(snapshot.cells, spacing_um) and cells["n"] == len(snapshot.cells) > 0
        for map_name in (name, "mineral_depth_um", EVENT_MAP):
            np.testing.assert_allclose(frame.maps[map_name], snapshot.maps[map_name], rtol=1e-6)


def test_the_cells_packed_from_a_models_arrays_are_those_of_its_cells_table():
    """``parts_payload`` (the live page's, from the arrays) packs the bytes ``cells_payload`` packs of the table
    ``cells_table`` builds, for two lineages in every stage; a state with no drawing is refused as there."""
    from boneabm.app.frames import cells_payload, parts_payload
    from boneabm.draw import LINEAGE_STYLES
    from boneabm.snapshots import cells_table

    rng = np.random.default_rng(3)
    parts = []
    for name in ("osteoclast", "osteoblast"):
        states = np.array(list(LINEAGE_STYLES[name].colours))[rng.integers(0, len(LINEAGE_STYLES[name].colours), 50)]
        parts.append((name, np.arange(50), rng.integers(0, 40, 50), rng.integers(0, 40, 50),
                      {"state": states, "nuclei": rng.integers(1, 9, 50)}))
    assert parts_payload(parts, 25.0, 25.0) == cells_payload(cells_table(3.0, 25.0, parts), 25.0)
    bad = [(parts[0][0], *parts[0][1:4], {**parts[0][4], "state": np.full(50, "fibroblast")})]
    with pytest.raises(ValueError, match="no drawing registered"):
        parts_payload(bad, 25.0, 25.0)


def test_the_cells_are_packed_by_drawing_group_with_their_drawn_size():
    import pandas as pd

    from boneabm.app.frames import PALETTE, cells_payload
    from boneabm.draw import LINEAGE_STYLES

    table = pd.DataFrame({"lineage": ["osteoclast", "osteoblast", "osteoclast", "osteoclast"],
                          "state": ["osteoclast", "lining", "precursor", "precursor"],
                          "x_um": [10.0, 20.0, 30.0, 40.0], "y_um": [1.0, 2.0, 3.0, 4.0], "nuclei": [5, 1, 1, 1]})
    packed = cells_payload(table, 25.0)

    def floats(packed_bytes):
        return np.frombuffer(packed_bytes, dtype="<f4")

    groups = [(entry["lineage"], entry["state"]) for entry in PALETTE]
    order = sorted(range(4), key=lambda i: groups.index((table.lineage[i], table.state[i])))
    assert packed["n"] == 4 and sum(packed["counts"]) == 4
    assert packed["counts"][groups.index(("osteoclast", "precursor"))] == 2
    np.testing.assert_array_equal(floats(packed["x_um"]), table.x_um[order])
    np.testing.assert_array_equal(floats(packed["y_um"]), table.y_um[order])
    radius = [LINEAGE_STYLES[table.lineage[i]].diameter_um(np.array([table.nuclei[i]]), 25.0)[0] / 2 for i in order]
    np.testing.assert_allclose(floats(packed["radius_um"]), radius, rtol=1e-6)
    with pytest.raises(ValueError, match="no drawing registered"):
        cells_payload(table.assign(lineage="fibroblast"), 25.0)


def test_a_frame_is_sent_as_json_and_binary_buffers():
    """``frames.message``: the bytes of a frame (however deep) taken out as buffers, each named where it was."""
    from boneabm.app.frames import message

    frame = {"cells": {"x_um": b"\x00\x01", "counts": [1, 2]}, "lines": [{"values": b"\x02"}, {"label": "a"}],
             "title": "t"}
    content, buffers = message(frame)
    assert buffers == [b"\x00\x01", b"\x02"]
    assert content == {"cells": {"x_um": {"__buffer__": 0}, "counts": [1, 2]},
                       "lines": [{"values": {"__buffer__": 1}}, {"label": "a"}], "title": "t"}


def _map_rgba_by_numpy(maps, layer, vmax=None):
    """``frames.map_rgba`` as numpy's whole-array steps compute it in double precision (what it computed, in the
    maps' own type, before its compiled pass):
    each map reduced by the largest of each k × k block (zeros past the edge), a field map taken at the nearest
    site, coloured by the colour map's 256 levels, the resorbed pixels with an unresorbed 4-neighbour outlined."""
    from scipy import ndimage

    from boneabm.app.frames import MAP_MAX_PX, _lut
    from boneabm.draw import LAYERS, OUTLINE_RGBA, TRENCH_OUTLINE_RGBA, layer_limits
    from boneabm.environment.bone import RESORBED_DEPTH_UM, TRENCH
    from boneabm.snapshots import EVENT_MAP

    def reduced(values, k):
        padded = np.zeros((-(-values.shape[0] // k) * k, -(-values.shape[1] // k) * k), dtype=values.dtype)
        padded[:values.shape[0], :values.shape[1]] = values
        return padded.reshape(padded.shape[0] // k, k, padded.shape[1] // k, k).max(axis=(1, 3))

    values, depth = (maps[name].astype(np.float64) for name in (layer, "mineral_depth_um"))  # (in double)
    low, high = layer_limits(values) if vmax is None else (0.0, vmax)
    k = -(-max(depth.shape) // MAP_MAX_PX)
    small = reduced(depth, k)
    if LAYERS[layer].per_pixel:
        values = reduced(values, k)
    else:
        values = values[np.ix_(np.arange(small.shape[0]) * values.shape[0] // small.shape[0],
                               np.arange(small.shape[1]) * values.shape[1] // small.shape[1])]
    rgba = _lut(LAYERS[layer].cmap)[np.clip((values - low) * (255.0 / (high - low)), 0, 255).astype(np.uint8)]
    resorbed = small > RESORBED_DEPTH_UM
    edge = resorbed & ~ndimage.binary_erosion(resorbed, border_value=1)
    rgba[edge] = OUTLINE_RGBA
    if EVENT_MAP in maps:
        rgba[edge & (reduced(maps[EVENT_MAP], k) == TRENCH)] = TRENCH_OUTLINE_RGBA
    return np.ascontiguousarray(rgba.transpose(1, 0, 2)[::-1]), low, high


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_map_sent_has_the_pixels_numpys_whole_array_steps_give(dtype):
    """The compiled pass (``frames._map_image``) against its definition in numpy, pixel for pixel: maps whose
    sides are and are not multiples of the reduction, depths at the resorbed threshold, pits and trenches, a
    bone layer, another bone layer and a field layer, with the frame's colour range and a fixed one."""
    from boneabm.app.frames import map_rgba
    from boneabm.environment.bone import RESORBED_DEPTH_UM
    from boneabm.snapshots import EVENT_MAP

    rng = np.random.default_rng(3)
    for shape in [(500, 400), (251, 99), (100, 1000), (7, 3)]:
        depth = np.zeros(shape, dtype=dtype)
        for _ in range(30):
            x, y = rng.integers(0, shape[0]), rng.integers(0, shape[1])
            depth[x:x + rng.integers(1, 30), y:y + rng.integers(1, 30)] = rng.choice(
                [0.01, RESORBED_DEPTH_UM, RESORBED_DEPTH_UM * 1.000001, 1.0, 3.0])
        events = np.where(depth > RESORBED_DEPTH_UM, rng.choice([1, 2], shape), 0).astype(np.uint8)
        field = rng.random((max(shape[0] // 5, 1), max(shape[1] // 5, 1))) * 50
        for layer, values in (("mineral_depth_um", depth), ("collagen_depth_um", depth * dtype(1.3)),
                              ("rankl_free_ng_ml", field)):
            for maps in ({"mineral_depth_um": depth, layer: values},
                         {"mineral_depth_um": depth, layer: values, EVENT_MAP: events}):
                for vmax in (None, 2.0):
                    got, low, high = map_rgba(maps, layer, vmax)
                    want, want_low, want_high = _map_rgba_by_numpy(maps, layer, vmax)
                    assert (low, high) == (want_low, want_high)
                    assert got.shape == want.shape and got.dtype == want.dtype
                    assert np.array_equal(got, want), (shape, layer, EVENT_MAP in maps, vmax)


def test_the_map_sent_is_reduced_keeps_a_one_pixel_pit_outlined_and_is_encoded_only_when_it_changes():
    from boneabm.app.frames import MAP_MAX_PX, MapImages, map_rgba
    from boneabm.draw import OUTLINE_RGBA, TRENCH_OUTLINE_RGBA
    from boneabm.environment.bone import TRENCH
    from boneabm.snapshots import EVENT_MAP

    depth = np.zeros((500, 400), dtype=np.float32)
    depth[3, 398] = 2.0  # a one-pixel pit near x = 0, at the top (y up)
    events = (depth > 0).astype(np.uint8)
    depth[200:260, 100:104] = 1.0  # a trench
    events[200:260, 100:104] = TRENCH
    maps = {"mineral_depth_um": depth, EVENT_MAP: events, "rankl_free_ng_ml": np.full((100, 80), 50.0)}
    rgba, low, high = map_rgba(maps, "mineral_depth_um")
    assert rgba.shape == (200, MAP_MAX_PX, 4) and (low, high) == (0.0, 2.0)  # rows are y, from the top
    assert (rgba[:3, :3] == OUTLINE_RGBA).all(axis=-1).any()  # the pit, top left
    assert (rgba == TRENCH_OUTLINE_RGBA).all(axis=-1).sum() > 20
    field, _, _ = map_rgba(maps, "rankl_free_ng_ml")  # a field map on the bone map's grid, outlined too
    assert field.shape == rgba.shape and (field == TRENCH_OUTLINE_RGBA).all(axis=-1).sum() > 20

    images = MapImages()
    first, _, _ = images.image_of(maps, "mineral_depth_um")
    assert first["rgba"] == rgba.tobytes() and (first["width"], first["height"]) == (MAP_MAX_PX, 200)
    again, _, _ = images.image_of({**maps, "mineral_depth_um": depth.copy()}, "mineral_depth_um")
    assert again is first  # the same pixels: not encoded nor sent again
    deeper = depth.copy()
    deeper[300:340, 300:340] = 0.04  # shallower than a pit: coloured, not outlined
    changed, _, _ = images.image_of({**maps, "mineral_depth_um": deeper}, "mineral_depth_um")
    assert changed["key"] != first["key"] and changed["rgba"] != first["rgba"]
