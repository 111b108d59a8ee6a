"""Installed, not only cloned: a wheel built from the checkout, installed into a fresh virtual environment outside
it, runs an assay, loads every shipped panel and built-in network and finds every example, from a directory
that is not the checkout.

The fresh environment takes boneabm from the wheel and nothing else; its third-party dependencies come from the
test's own environment through a ``.pth`` line (a path line, so the checkout's editable install, itself a
``.pth`` there, is not seen), which keeps the test offline and quick. That the wheel declares those
dependencies is checked against its metadata.
"""

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow  # builds a wheel and a venv; numba compiles the installed copy afresh (≈ 1-1½ min)


def tracked_package_files() -> list[str]:
    """The package's files as git tracks them (what a clone has), caches and editor files aside."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "boneabm"], capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the wheel test needs git ls-files")
    return [line for line in listed.stdout.splitlines() if "__pycache__" not in line]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv python, wheel path) for boneabm installed from a wheel into a fresh venv."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"  # build from what git tracks, so nothing local leaks into the wheel
    for name in ["pyproject.toml", "README.md", *tracked_package_files()]:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "--disable-pip-version-check", "-w", str(tmp / "dist"), str(source)], check=True)
    wheel = next((tmp / "dist").glob("boneabm-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    with zipfile.ZipFile(wheel) as archive:  # a wheel is a zip laid out as site-packages: what pip installs
        archive.extractall(purelib)
    dependencies = [*site.getsitepackages(), sysconfig.get_path("purelib")]
    (purelib / "zz_test_dependencies.pth").write_text("\n".join(dict.fromkeys(dependencies)) + "\n")
    scripts = venv / "bin" / "boneabm"
    scripts.write_text(f"#!{python}\nimport sys\nfrom boneabm.cli import main\nsys.exit(main())\n")
    scripts.chmod(0o755)
    return python, wheel


def run_outside(python: Path, code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=cwd, env=env, timeout=900)


def test_the_wheel_holds_every_file_the_package_ships(installed):
    _, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f for f in tracked_package_files() if f not in names]
    assert not missing, f"files the package reads are left out of the wheel: {missing}"
    assert any(n.startswith("boneabm/examples/panels/") for n in names)
    assert "boneabm/signaling/networks/rank.yaml" in names


def test_the_wheel_declares_what_the_package_imports(installed):
    _, wheel = installed
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(archive.read(n).decode() for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    requires = {line.split(":", 1)[1].split(";")[0].strip().split(">")[0].split("<")[0].split("[")[0].lower()
                for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line}
    for needed in ("mesa", "numba", "numpy", "pandas", "scipy", "pydantic", "pyyaml", "tqdm", "matplotlib",
                   "distributed", "pyarrow"):
        assert needed in requires, needed


def test_an_installed_boneabm_runs_an_assay_from_anywhere(installed, tmp_path):
    python, _ = installed
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = """
import sys, boneabm
from pathlib import Path
print(boneabm.__file__)
from boneabm.cli import main
sys.exit(main(["run", "osteoclastogenesis", "--seed", "3", "--out", "assay", "--quiet",
               "--set", "domain.width_um=500", "--set", "domain.height_um=500", "--set", "time.duration_h=3"]))
"""
    done = run_outside(python, code, work)
    assert done.returncode == 0, done.stderr
    # compiled afresh for the installed files: a user's first run warns of nothing (the kernel once warned
    # that its parallel options found nothing to parallelise in one of its array expressions)
    assert "Warning" not in done.stderr, done.stderr
    imported_from = Path(done.stdout.splitlines()[0])
    assert not imported_from.is_relative_to(ROOT), f"boneabm came from the checkout: {imported_from}"
    run = work / "assay"
    assert (run / "timeseries.csv").is_file() and (run / "network.yaml").read_text().startswith("#")


def test_an_installed_boneabm_loads_every_panel_network_and_example(installed, tmp_path):
    python, _ = installed
    code = """
from boneabm import catalog
from boneabm.panel import load_panel
from boneabm.signaling.network import builtin_networks, load_network
from boneabm.sweep import load_sweep
from boneabm.validation import PANELS
assert "site-packages" in str(catalog.EXAMPLES_DIR), catalog.EXAMPLES_DIR
panels = [load_panel(e.path) for e in catalog.examples("panel")]
assert {p.name for p in panels} >= {"perturbations", "rankl_dose_response", "opg_titration"}
assert all((PANELS / f"{p.name}.yaml").is_file() for p in panels)
assert "rank" in builtin_networks()
for name in builtin_networks():
    load_network(name)
for e in catalog.examples("sweep"):
    load_sweep(e.path)
print(len(catalog.examples()))
"""
    done = run_outside(python, code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) >= 12


def test_an_installed_boneabm_copies_examples_and_needs_out_for_docs(installed, tmp_path):
    python, _ = installed
    boneabm = [str(python.parent / "boneabm")]
    done = subprocess.run([*boneabm, "examples", "mcsf_culture", "--copy"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "mcsf_culture.yaml").is_file(), done.stderr
    done = subprocess.run([*boneabm, "docs"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "--out" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "docs").exists()
    done = subprocess.run([*boneabm, "docs", "--out", "model.md"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and "ODD" in (tmp_path / "model.md").read_text()
