"""Parameter sweeps: a sweep file expands into runs (``spec``), which run on dask.distributed or as array-job
tasks (``engine``) and are gathered into one summary and one time-series table (``collect``)."""

from boneabm.sweep.collect import collect
from boneabm.sweep.engine import run_index, run_sweep
from boneabm.sweep.spec import Sweep, SweepRun, load_sweep

__all__ = ["Sweep", "SweepRun", "collect", "load_sweep", "run_index", "run_sweep"]
