"""The sweep grid: a YAML file, its typed schema, and its expansion into jobs.

A grid names three kinds of independent jobs (any may be absent)::

    sweep:                        # run settings (all optional)
      max_retries: 2              # Ray re-runs a job whose worker or node was lost
      resources:                  # declared per job kind: CPUs, memory (GiB), time limit (min)
        estimate: {cpus: 1, memory_gb: 2}
        train: {cpus: 2, memory_gb: 3}
        benchmark: {cpus: 1, memory_gb: 2}
    estimate:                     # Something-Else videos -> state trajectories
      - actions: [push_left_to_right]      # every video of these actions in videos.csv
        videos: []                         # and/or these video ids
        iterations: 0                      # 0: the perception config's
    train:                        # (action, demos, reward, seed) combinations
      - actions: [push_left_to_right]
        demos: models/demos/{action}       # a folder (template), or "estimated"
        per_video: false                   # true: one single-video policy per demonstration
        rewards: [mean, max]
        seeds: [0, 1]
        updates: 60
        benchmark: [easy, hard]            # benchmark each trained policy (after it finishes)
    benchmark:                    # existing policies
      - action: push_left_to_right
        policies: [models/push_left_to_right/policy.zip, scripted]
        specs: [easy, hard]
        limit: 0                           # 0: all start states

Relative paths are taken from the current directory. ``demos: estimated`` trains on the
``states_aligned.csv`` (the action-phase demonstrations) of this sweep's own estimates of
the action (the training waits for them).
Everything a job needs is checked before anything starts (:func:`expand`): unknown actions,
missing demonstration folders, unknown video ids, missing policy or spec files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..actions import get_action
from ..config import ConfigError, check_choice, check_range, from_dict
from ..errors import InputError
from ..resources import resource_file

__all__ = ["ResourceSpec", "Resources", "SweepSettings", "EstimateSet", "TrainSet",
           "BenchmarkSet", "Grid", "Job", "load_grid", "expand", "JOB_KINDS", "ESTIMATED"]

JOB_KINDS = ("estimate", "train", "benchmark")
#: ``TrainSet.demos`` value: train on this sweep's own estimates of the action
ESTIMATED = "estimated"
REWARDS = ("mean", "max", "single")
INITS = ("none", "track")
_GIB = 1024 ** 3


@dataclass
class ResourceSpec:
    """What one job of a kind declares to Ray, and the limits it runs under.

    Attributes:
        cpus: CPUs reserved per job (Ray ``num_cpus``; training envs / benchmark workers use them).
        memory_gb: memory reserved per job (Ray ``memory``); a job whose processes together
            use more is stopped and reported as failed.
        timeout_min: a job running longer is stopped and reported as failed (0 = no limit).
    """

    cpus: float = 1.0
    memory_gb: float = 2.0
    timeout_min: float = 0.0

    def __post_init__(self):
        check_range(self, "cpus", 0.0, 1024.0, lo_open=True)
        check_range(self, "memory_gb", 0.0, 4096.0, lo_open=True)
        check_range(self, "timeout_min", 0.0, None)


@dataclass
class Resources:
    """Per-kind resource declarations."""

    estimate: ResourceSpec = field(default_factory=ResourceSpec)
    train: ResourceSpec = field(default_factory=lambda: ResourceSpec(cpus=2.0, memory_gb=3.0))
    benchmark: ResourceSpec = field(default_factory=ResourceSpec)


@dataclass
class SweepSettings:
    """Run settings of a sweep.

    Attributes:
        max_retries: how often Ray re-runs a job whose worker process or node died.
        resources: per-kind CPUs / memory / time limit.
    """

    max_retries: int = 2
    resources: Resources = field(default_factory=Resources)

    def __post_init__(self):
        check_range(self, "max_retries", 0, 100)


@dataclass
class EstimateSet:
    """Estimate Something-Else videos (``real2sim estimate --annotations``).

    Attributes:
        actions: estimate every video of these actions listed in ``videos_csv``.
        videos: and these video ids (their action comes from ``videos_csv``).
        limit: at most this many videos per action (0 = all).
        annotations / videos_csv: the Something-Else files ("" = the bundled data/something_else/).
        iterations: optimiser iterations (0 = the perception config's).
        config: perception parameter file ("" = config/perception.yaml).
    """

    actions: list[str] = field(default_factory=list)
    videos: list[str] = field(default_factory=list)
    limit: int = 0
    annotations: str = ""
    videos_csv: str = ""
    iterations: int = 0
    config: str = ""

    def __post_init__(self):
        check_range(self, "limit", 0, None)
        check_range(self, "iterations", 0, None)
        self.videos = [str(v) for v in self.videos]


@dataclass
class TrainSet:
    """Train policies (``real2sim train``) on every (action, demos, reward, seed) combination.

    Attributes:
        actions: actions to train.
        demos: folder of demonstration CSVs; ``{action}`` is replaced by the action name;
            ``estimated`` = this sweep's own estimates of the action.
        per_video: one single-video policy per demonstration instead of one on all of them.
        rewards: multi-video reward reductions (mean, max, single).
        seeds: random seeds.
        updates / envs / episodes_per_update / epochs: ``real2sim train`` flags (0 = config).
        init: none or track ("" = config).
        set: extra ``KEY=VALUE`` overrides (``real2sim train --set``).
        config: policy parameter file ("" = config/policy.yaml).
        benchmark: benchmark specs (easy, hard, or CSV) to run on each trained policy.
        benchmark_limit: start states per benchmark (0 = all).
    """

    actions: list[str] = field(default_factory=list)
    demos: str = "models/demos/{action}"
    per_video: bool = False
    rewards: list[str] = field(default_factory=lambda: ["mean"])
    seeds: list[int] = field(default_factory=lambda: [0])
    updates: int = 0
    envs: int = 0
    episodes_per_update: int = 0
    epochs: int = 0
    init: str = ""
    set: list[str] = field(default_factory=list)
    config: str = ""
    benchmark: list[str] = field(default_factory=list)
    benchmark_limit: int = 0

    def __post_init__(self):
        for name in ("updates", "envs", "episodes_per_update", "epochs", "benchmark_limit"):
            check_range(self, name, 0, None)
        for r in self.rewards:
            if r not in REWARDS:
                raise ConfigError(f"TrainSet.rewards: {r!r} is not allowed; choose from "
                                  f"{', '.join(REWARDS)}")
        if self.init:
            check_choice(self, "init", INITS)
        if not self.seeds:
            raise ConfigError("TrainSet.seeds: give at least one seed")
        if not self.rewards:
            raise ConfigError("TrainSet.rewards: give at least one reward")


@dataclass
class BenchmarkSet:
    """Benchmark existing policies (``real2sim benchmark``).

    Attributes:
        action: the policies' action.
        policies: policy files (.zip), ``scripted`` or ``idle``.
        specs: start-state sets (easy, hard, or a CSV).
        limit: start states per benchmark (0 = all).
        config: policy parameter file ("" = config/policy.yaml).
    """

    action: str = ""
    policies: list[str] = field(default_factory=list)
    specs: list[str] = field(default_factory=lambda: ["easy"])
    limit: int = 0
    config: str = ""

    def __post_init__(self):
        check_range(self, "limit", 0, None)


@dataclass
class Grid:
    """A whole sweep grid file."""

    sweep: SweepSettings = field(default_factory=SweepSettings)
    estimate: list[EstimateSet] = field(default_factory=list)
    train: list[TrainSet] = field(default_factory=list)
    benchmark: list[BenchmarkSet] = field(default_factory=list)


@dataclass
class Job:
    """One unit of work: a ``real2sim`` command line run into its own output folder.

    Attributes:
        id: unique path-like name (``estimate/push_left_to_right/3694``); the output folder is
            ``OUT/<id>``.
        kind: estimate, train or benchmark.
        argv: the ``real2sim`` arguments (without the program name).
        out_dir: absolute output folder.
        deps: ids of jobs that must finish first.
        cpus / memory_bytes / timeout_s: the declared resources and limits.
    """

    id: str
    kind: str
    argv: list[str]
    out_dir: str
    deps: list[str] = field(default_factory=list)
    cpus: float = 1.0
    memory_bytes: int = 2 * _GIB
    timeout_s: float = 0.0

    def command(self) -> str:
        """The equivalent shell command line."""
        import shlex

        return "real2sim " + " ".join(shlex.quote(a) for a in self.argv)


def load_grid(path) -> Grid:
    """Read and check a grid YAML file (schema only; :func:`expand` checks the inputs).

    Raises:
        ConfigError: not a file, not YAML, unknown keys, wrong types or values.
    """
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: grid file not found")
    try:
        doc = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML ({str(e).splitlines()[0]})") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{p}: expected a mapping with sweep / estimate / train / benchmark")
    for kind in JOB_KINDS:  # allow a single set instead of a list of sets
        if isinstance(doc.get(kind), dict):
            doc[kind] = [doc[kind]]
    return from_dict(Grid, doc, str(p))


# --- expansion -------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_") or "x"


def _abs(path: str) -> str:
    return str(Path(path).expanduser().resolve())


def _read_videos(csv_path: Path) -> dict[str, str]:
    import csv

    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "video_id" not in rows[0] or "action" not in rows[0]:
        raise InputError(f"{csv_path}: expected a CSV with video_id and action columns")
    return {r["video_id"].strip(): r["action"].strip() for r in rows}


def _existing(path: str, what: str, where: str) -> str:
    if not Path(path).expanduser().exists():
        raise InputError(f"{where}: {what} {path!r} not found (relative paths are taken from "
                         f"the current directory {Path.cwd()})")
    return _abs(path)


def _spec_arg(spec: str, where: str) -> str:
    if spec in ("easy", "hard"):
        return spec
    return _existing(spec, "benchmark spec (easy, hard or a CSV file)", where)


def _policy_arg(policy: str, where: str) -> str:
    if policy in ("scripted", "idle"):
        return policy
    return _existing(policy, "policy file", where)


def _demo_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.csv") if p.is_file())


def expand(grid: Grid, out_dir, grid_path: str = "grid") -> list[Job]:
    """All jobs of ``grid`` with their output folders under ``out_dir``, dependencies first.

    Raises:
        InputError: an unknown action, a missing demonstration folder, annotation file, video
            id, policy or spec, or two jobs with the same output folder; nothing has run yet.
    """
    out = Path(out_dir).expanduser().resolve()
    res = grid.sweep.resources
    jobs: list[Job] = []
    estimates_of: dict[str, list[Job]] = {}

    def add(kind: str, jid: str, argv: list[str], deps=()) -> Job:
        r: ResourceSpec = getattr(res, kind)
        job = Job(id=jid, kind=kind, argv=argv, out_dir=str(out / jid), deps=list(deps),
                  cpus=r.cpus, memory_bytes=int(r.memory_gb * _GIB),
                  timeout_s=60.0 * r.timeout_min)
        jobs.append(job)
        return job

    def cpus_int(kind: str) -> int:
        return max(1, int(getattr(res, kind).cpus))

    for n, es in enumerate(grid.estimate):
        where = f"{grid_path}: estimate[{n}]"
        ann = (_existing(es.annotations, "annotation file", where) if es.annotations
               else str(resource_file("data", "something_else", "annotations.json")))
        vcsv = (Path(_existing(es.videos_csv, "videos CSV", where)) if es.videos_csv
                else resource_file("data", "something_else", "videos.csv"))
        table = _read_videos(vcsv)
        wanted: list[tuple[str, str]] = []
        for a in es.actions:
            name = get_action(a).name
            vids = [v for v, act in table.items() if get_action(act).name == name]
            if not vids:
                raise InputError(f"{where}: {vcsv} lists no video of action {name!r}")
            wanted += [(v, name) for v in (vids[: es.limit] if es.limit else vids)]
        for v in es.videos:
            if v not in table:
                raise InputError(f"{where}: video id {v!r} is not in {vcsv}")
            wanted.append((v, get_action(table[v]).name))
        if not wanted:
            raise InputError(f"{where}: give actions or videos to estimate")
        for vid, action in wanted:
            argv = ["estimate", "--annotations", ann, "--video-id", vid, "--action", action,
                    "--out", str(out / "estimate" / action / _slug(vid)), "--no-progress",
                    "--threads", str(cpus_int("estimate"))]
            if es.iterations:
                argv += ["--iterations", str(es.iterations)]
            if es.config:
                argv += ["--config", _existing(es.config, "perception config", where)]
            job = add("estimate", f"estimate/{action}/{_slug(vid)}", argv)
            estimates_of.setdefault(action, []).append(job)

    trained: list[tuple[str, Job, TrainSet]] = []
    for n, ts in enumerate(grid.train):
        where = f"{grid_path}: train[{n}]"
        if not ts.actions:
            raise InputError(f"{where}: give the actions to train")
        for a in ts.actions:
            action = get_action(a).name
            if ts.demos == ESTIMATED:
                ests = estimates_of.get(action)
                if not ests:
                    raise InputError(f"{where}: demos: {ESTIMATED} but the grid estimates no "
                                     f"video of {action!r}; add it to estimate: or give a folder")
                groups = ([(Path(e.out_dir).name, [e]) for e in ests] if ts.per_video
                          else [("all", ests)])
                demo_sets = [(tag, [str(Path(e.out_dir) / "states_aligned.csv") for e in g],
                              [e.id for e in g]) for tag, g in groups]
            else:
                folder = Path(ts.demos.replace("{action}", action)).expanduser()
                if not folder.is_dir():
                    raise InputError(f"{where}: demonstration folder {str(folder)!r} of "
                                     f"{action!r} not found (relative paths are taken from "
                                     f"{Path.cwd()}); estimate the videos first or fix demos:")
                files = _demo_files(folder)
                if not files:
                    raise InputError(f"{where}: {folder} has no demonstration CSV files")
                demo_sets = ([(_slug(f.stem), [_abs(str(f))], []) for f in files]
                             if ts.per_video else [("all", [_abs(str(folder))], [])])
            for tag, states, deps in demo_sets:
                for reward in ts.rewards:
                    for seed in ts.seeds:
                        jid = f"train/{action}/{reward}/{tag}/seed{seed}"
                        argv = ["train", "--action", action, "--states", *states,
                                "--out", str(out / jid), "--quiet", "--reward", reward,
                                "--seed", str(seed)]
                        for flag, val in (("--updates", ts.updates), ("--envs", ts.envs),
                                          ("--episodes-per-update", ts.episodes_per_update),
                                          ("--epochs", ts.epochs)):
                            if val:
                                argv += [flag, str(val)]
                        if ts.init:
                            argv += ["--init", ts.init]
                        for item in ts.set:
                            argv += ["--set", item]
                        if ts.config:
                            argv += ["--config", _existing(ts.config, "policy config", where)]
                        trained.append((action, add("train", jid, argv, deps), ts))
            for spec in ts.benchmark:
                _spec_arg(spec, where)

    def bench(action, policy, spec, limit, config, jid, deps=()):
        argv = ["benchmark", "--action", action, "--policy", policy, "--spec", spec,
                "--out", str(out / jid), "--quiet", "--workers", str(cpus_int("benchmark"))]
        if limit:
            argv += ["--limit", str(limit)]
        if config:
            argv += ["--config", config]
        add("benchmark", jid, argv, deps)

    for action, tjob, ts in trained:
        for spec in ts.benchmark:
            sarg = _spec_arg(spec, grid_path)
            bench(action, str(Path(tjob.out_dir) / "policy.zip"), sarg, ts.benchmark_limit,
                  _abs(ts.config) if ts.config else "",
                  f"benchmark/{tjob.id}/{_slug(Path(spec).stem)}", [tjob.id])

    for n, bs in enumerate(grid.benchmark):
        where = f"{grid_path}: benchmark[{n}]"
        if not bs.action:
            raise InputError(f"{where}: give the action of the policies")
        action = get_action(bs.action).name
        if not bs.policies:
            raise InputError(f"{where}: give the policies to benchmark")
        cfg = _existing(bs.config, "policy config", where) if bs.config else ""
        for policy in bs.policies:
            parg = _policy_arg(policy, where)
            ptag = policy if policy in ("scripted", "idle") else \
                _slug(str(Path(policy).with_suffix("")).strip("/"))
            for spec in bs.specs:
                sarg = _spec_arg(spec, where)
                bench(action, parg, sarg, bs.limit, cfg,
                      f"benchmark/{action}/{ptag}/{_slug(Path(spec).stem)}")

    seen: dict[str, Job] = {}
    for j in jobs:
        if j.id in seen:
            raise InputError(f"{grid_path}: two jobs write to {j.out_dir} ({j.command()}); "
                             "remove the duplicate from the grid")
        seen[j.id] = j
    if not jobs:
        raise InputError(f"{grid_path}: the grid has no jobs (add estimate:, train: or "
                         "benchmark: entries)")
    return jobs
