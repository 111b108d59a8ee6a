"""boneabm: a stochastic agent-based bone remodeling simulator.

Notebook use::

    import boneabm
    result = boneabm.run("mcsf_culture", seed=1)   # a shipped example, or a YAML path
    result.timeseries.plot(x="time_h", y="n_precursors")
    again = boneabm.load_run(result.path)
    arm = boneabm.fork("runs/.../checkpoints/checkpoint-000072.000h.npz", ["doses=[{drug: opg_fc, ng_ml: 100, at_h: 72}]"])
"""

import os

from boneabm.version import __version__

# numba's parallel kernels run on GNU OpenMP, whose idle threads spin between parallel regions by default. A tick
# makes many short parallel calls, so on a core shared with anything else (another run, a sweep's worker, the
# app's page, a cluster node's neighbours) a spinning thread keeps the core from the work and the kernel's
# threads wait on each other: with one other busy process on 2 cores the 1.5 mm assay stepped at 3-8 simulated
# h/s spinning against 24-26 asleep. Alone, sleeping costs nothing measurable (the default assay: 9.2 and 10.0 s
# spinning, 10.1 and 9.8 s asleep, 19 % less CPU), and results do not depend on it (byte-identical at any thread
# count). So idle threads sleep unless the user says otherwise; set before numba starts its threads, and inherited
# by subprocesses and Dask workers.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

__all__ = ["Run", "fork", "load_run", "resume", "run", "__version__"]


def __getattr__(name: str):
    # imported on first use: a process that only parses arguments or spawns sweep workers stays light, and
    # numba is first imported where NUMBA_NUM_THREADS has its final value
    if name in ("Run", "fork", "load_run", "resume", "run"):
        from boneabm import api

        return getattr(api, name)
    raise AttributeError(f"module 'boneabm' has no attribute {name!r}")
