"""Sweeps: grids of estimates, trainings and benchmarks run as Ray tasks (``real2sim sweep``).

* :mod:`.grid`: the grid YAML, its typed schema and its expansion into :class:`~.grid.Job` s;
* :mod:`.execute`: one job in a child process under its memory / time limits;
* :mod:`.runner`: the jobs as Ray tasks (or sequentially), resumable, with a summary;
* :mod:`.session`: a local Ray for the run, or a cluster joined by address.
"""

from .grid import Grid, Job, expand, load_grid
from .runner import run_sequential, run_sweep

__all__ = ["Grid", "Job", "expand", "load_grid", "run_sequential", "run_sweep"]
