"""boneabm: a stochastic agent-based bone remodeling simulator.

Notebook use::

    import boneabm
    result = boneabm.run("configs/mcsf_culture.yaml", seed=1)
    result.timeseries.plot(x="time_h", y="n_precursors")
    again = boneabm.load_run(result.path)
"""

__version__ = "0.1.0"

from boneabm.api import Run, load_run, run  # noqa: E402

__all__ = ["Run", "load_run", "run", "__version__"]
