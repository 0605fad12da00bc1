"""The report of a run folder: ``report.html`` for a person, from ``summary.json`` and the files
the stages wrote.

A demo run folder (see :mod:`real2sim_bringup.demo`) holds::

    summary.json            what the demo recorded (stages, node answers, timings)
    estimates/<video>/      real2sim estimate: silhouettes.gif, top_view.png, summary.json, CSVs
    rollout/                plan.json (the gripper plan) and rollout.csv (the simulated rollout)
    execution/              execution.mp4, joint_trajectory.csv, summary.json (executor node)
    logs/<node>.log         the node processes' output
    bag/                    rosbag2 (MCAP) of every topic
    benchmark/              optional: a ``real2sim benchmark --out`` folder

:func:`judge_stages` turns a summary into one verdict per stage (start, estimate, rollout,
execute) with a one-line reason; the demo prints the same verdicts on the console.
:func:`write_pipeline_report` writes ``report.html`` plus its pictures into ``report/``;
:func:`write_benchmark_report` does the same for a ``real2sim benchmark`` folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from .report import (
    FAILED,
    PASSED,
    SKIPPED,
    Failure,
    Page,
    Section,
    Stage,
    esc,
    facts,
    figure,
    link,
    scrub_paths,
    timeline,
    verdict_badge,
    video,
    write_page,
)

__all__ = ["STAGES", "judge_stages", "write_pipeline_report", "write_benchmark_report",
           "is_benchmark_dir"]

STAGES = ("start", "estimate", "rollout", "execute")
"""The stages of a demo run, in order."""

ASSETS = "report"
"""Folder (next to report.html) of the pictures the report makes."""

_NODE_OF_STAGE = {"estimate": "perception", "rollout": "policy", "execute": "executor"}


def _json(path: Path) -> dict:
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return d if isinstance(d, dict) else {}


def _first_line(text: str, limit: int = 300) -> str:
    line = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


# -- verdicts --------------------------------------------------------------------------------

def _estimate_ok(e: dict) -> bool:
    return bool(e.get("success")) and e.get("fit_ok", True) is not False


def judge_stages(summary: dict) -> list[Stage]:
    """One :class:`Stage` per demo stage from a demo summary.

    ``summary["errors"]`` (stage -> reason) holds what stopped a stage (a node that died, a
    start-up failure, an interruption); ``estimates`` / ``rollout`` / ``execution`` hold the
    nodes' answers. A stage that did not run is ``skipped`` with the earlier failure as reason.
    """
    errors = summary.get("errors", {}) or {}
    secs = summary.get("timing_s", {}) or {}
    out: list[Stage] = []
    blocker = ""

    def add(name, verdict, detail):
        nonlocal blocker
        out.append(Stage(name, verdict, detail, secs.get(name)))
        if verdict == FAILED and not blocker:
            blocker = name

    def not_run(name, why=""):
        if name in errors:
            add(name, FAILED, errors[name])
        else:
            add(name, SKIPPED, why or (f"not run: the {blocker} stage failed" if blocker
                                      else "not run"))

    # start
    if "start" in errors:
        add("start", FAILED, errors["start"])
    elif "estimates" in summary or "rollout" in summary or "nodes_ready" in summary:
        add("start", PASSED, "perception, policy and executor nodes up over DDS")
    else:
        not_run("start")
    # estimate
    ests = summary.get("estimates")
    if ests is None:
        not_run("estimate")
    else:
        bad = [e for e in ests if not _estimate_ok(e)]
        n_vid = len(summary.get("videos", ests))
        if "estimate" in errors:
            add("estimate", FAILED, errors["estimate"])
        elif bad:
            e = bad[0]
            why = e.get("message") if not e.get("success") else "fit flagged as failed"
            add("estimate", FAILED, f"{len(bad)} of {n_vid} video(s) failed; "
                f"{e.get('video_id', '?')}: {_first_line(why)}")
        else:
            add("estimate", PASSED, f"{len(ests)}/{n_vid} videos fitted")
    # rollout
    ro = summary.get("rollout")
    if ro is None:
        not_run("rollout")
    elif failed := _answer_failure("rollout", ro, errors,
                                   "the plan fails the action check in simulation: "):
        add("rollout", FAILED, failed)
    else:
        start = summary.get("start_state", {})
        add("rollout", PASSED, f"{ro.get('waypoints', '?')} waypoints, action check passed "
            f"in simulation from row {start.get('row', '?')}{_failed_rows(start)}")
    # execute
    ex = summary.get("execution")
    if ex is None:
        no_plan = ro is not None and not ro.get("success")
        not_run("execute", "not run: there is no plan (the rollout stage failed)" if no_plan
                else "" if blocker else "not run: there is no plan to execute")
    elif failed := _answer_failure("execute", ex, errors,
                                   "executed, but the action check failed: "):
        add("execute", FAILED, failed)
    else:
        err = ex.get("max_position_error")
        mm = f"; max IK error {1000 * err:.2f} mm" if isinstance(err, (int, float)) else ""
        add("execute", PASSED, f"action check passed on the simulated Panda{mm}")
    return out


# -- the demo report -------------------------------------------------------------------------

def _gt_bands(gt: dict) -> list:
    bands = []
    for key, cls in (("approach", "approach"), ("action", "action"), ("leave", "leave")):
        r = gt.get(key)
        if r:
            bands.append((key, (int(r[0]), int(r[1])), cls))
    return bands


def _iou(a, b) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def _video_card(run_dir: Path, e: dict, gt: dict) -> str:
    vid = str(e.get("video_id", "?"))
    d = f"estimates/{vid}"
    est = _json(run_dir / d / "summary.json")
    ok = _estimate_ok({**e, "fit_ok": est.get("fit_ok", e.get("fit_ok"))})
    verdict = PASSED if ok else FAILED
    head = (f'<h3>video {esc(vid)} {verdict_badge(verdict, "fitted" if ok else "FAILED")}'
            "</h3>")
    if not e.get("success"):
        reason = scrub_paths(_first_line(e.get("message", "")), run_dir)
        return (f'<div class="card failed">{head}<div class="failure"><b>estimate</b>: '
                f"{esc(reason)}</div></div>")
    n = int(est.get("frames", e.get("frames", 0)) or 0)
    ph = est.get("phase", {})
    pred = (int(ph["start"]), int(ph["stop"])) if "start" in ph and "stop" in ph else None
    flags = est.get("flags", {})
    timing = est.get("timing_s", {})
    rows = [("frames", f"{n} ({n / 12.0:.1f} s at 12 fps)" if n else "?")]
    if pred:
        rows.append(("estimated action phase", f"frames {pred[0] + 1}-{pred[1]}"))
    if gt.get("action"):
        a = gt["action"]
        iou = f" (IoU with the estimate {_iou(pred, a):.2f})" if pred else ""
        rows.append(("ground-truth action phase", f"frames {a[0] + 1}-{a[1]}{iou}"))
    ious = [f"{k.split('/')[1]} {v:.2f}" for k, v in flags.items()
            if k.startswith("iou/") and isinstance(v, (int, float))]
    if ious:
        rows.append(("silhouette IoU", esc(", ".join(ious))))
    if est and not est.get("fit_ok", True):
        rows.append(("fit", '<span class="fail">flagged as failed: '
                     + esc(", ".join(flags.get("failed_tracks", [])) or "see summary.json")
                     + "</span>"))
    if "total" in timing:
        rows.append(("fit time", f"{timing['total']:.1f} s ({timing.get('iterations', '?')} "
                     "iterations)"))
    if est.get("source"):
        rows.append(("input", esc(scrub_paths(est["source"], run_dir))))
    files = " &middot; ".join(link(f"{d}/{f}", f) for f in
                              ("states_aligned.csv", "states.csv", "summary.json")
                              if (run_dir / d / f).is_file())
    rows.append(("files", files or '<span class="fail">none written</span>'))
    pics = (figure(run_dir, f"{d}/silhouettes.gif", "rendered silhouettes (outline) over the "
                   "input masks (filled); hand red, object green", width=320)
            + figure(run_dir, f"{d}/top_view.png", "top view (aligned frame)", width=220))
    return (f'<div class="card wide {"" if ok else "failed"}">{head}<div class="row">{pics}'
            f'<div class="grow">{timeline(n, _gt_bands(gt), pred, fps=12.0)}{facts(rows)}'
            "</div></div></div>")


def _plots(run_dir: Path, notes: list[str]) -> dict[str, str]:
    """Make the report's pictures; returns name -> relative path of those that exist."""
    from . import report_plots as rp

    made = {}
    jobs = {
        "plan_3d": (run_dir / "rollout" / "plan.json",
                    lambda src, dst: rp.plot_plan_3d(src, dst,
                                                     run_dir / "rollout" / "rollout.csv"),
                    "plan_3d.png"),
        "joints": (run_dir / "execution" / "joint_trajectory.csv", rp.plot_joints, "joints.png"),
    }
    for name, (src, fn, png) in jobs.items():
        if not src.is_file():
            continue
        try:
            fn(src, run_dir / ASSETS / png)
            made[name] = f"{ASSETS}/{png}"
        except Exception as e:  # noqa: BLE001 - a picture that fails is named, not fatal
            notes.append(f"{png}: not drawn ({type(e).__name__}: {_first_line(e)})")
    mp4 = run_dir / "execution" / "execution.mp4"
    if mp4.is_file():
        try:
            rp.video_stills(mp4, run_dir / ASSETS / "execution_poster.png",
                            run_dir / ASSETS / "execution_stills.png", n=4)
            made["poster"] = f"{ASSETS}/execution_poster.png"
            made["stills"] = f"{ASSETS}/execution_stills.png"
        except Exception as e:  # noqa: BLE001
            notes.append(f"execution stills: not made ({type(e).__name__}: {_first_line(e)})")
    return made


def _policy_name(summary: dict, run_dir: Path) -> str:
    """The policy the policy node said it used (its answer starts ``policy NAME: ...``)."""
    msg = scrub_paths((summary.get("rollout") or {}).get("message", ""), run_dir)
    if msg.startswith("policy ") and ": " in msg:
        return msg.removeprefix("policy ").split(": ", 1)[0]
    return "?"


def _failed_rows(start: dict) -> str:
    """`` (rows 0, 2 failed the action check in simulation)`` when the demo searched."""
    failed = start.get("failed_rows") or []
    if not failed:
        return ""
    return (f" (row{'s' if len(failed) > 1 else ''} {', '.join(str(r) for r in failed)} "
            "failed the action check in simulation)")


def _rollout_section(run_dir: Path, summary: dict, made: dict) -> str:
    ro = summary.get("rollout", {})
    msg = scrub_paths(ro.get("message", ""), run_dir)
    check = msg.partition(": ")[2] if msg.startswith("policy ") else ""
    start = summary.get("start_state", {})
    rows = [("policy", esc(_policy_name(summary, run_dir))),
            ("start state", esc(f"row {start.get('row', '?')} of {start.get('spec', '?')}"
                                + _failed_rows(start))),
            ("waypoints", esc(ro.get("waypoints", "?"))),
            ("result in simulation", (f'<span class="ok">{esc(check or msg)}</span>'
                                      if ro.get("check_passed") else
                                      f'<span class="fail">{esc(check or msg)}</span>'))]
    files = " &middot; ".join(link(f"rollout/{f}", f) for f in ("plan.json", "rollout.csv")
                              if (run_dir / "rollout" / f).is_file())
    if files:
        rows.append(("files", files))
    pic = (figure(run_dir, made["plan_3d"], "gripper plan in the aligned frame (x: push "
                  "direction), coloured by time; objects from the simulated rollout", width=500)
           if "plan_3d" in made else '<p class="fail">no plan was received</p>')
    return (f'<div class="card"><div class="row">{pic}<div class="grow">{facts(rows)}</div>'
            "</div></div>")


def _execution_section(run_dir: Path, summary: dict, made: dict) -> str:
    ex = summary.get("execution", {})
    xs = _json(run_dir / "execution" / "summary.json")
    res = xs.get("execution", {})
    check = res.get("check", {}) if isinstance(res, dict) else {}
    ok = bool(ex.get("success") and ex.get("check_passed"))
    if ok:
        result = '<span class="ok">executed; the action check passed</span>'
    else:
        msg = scrub_paths(_first_line(ex.get("message", "")), run_dir)
        result = f'<span class="fail">{esc(msg or "no result")}</span>'
    rows = [("result", result)]
    if check.get("reason"):
        rows.append(("action check", esc(check["reason"])))
    if isinstance(ex.get("max_position_error"), (int, float)):
        rows.append(("IK error (max)", f"{1000 * ex['max_position_error']:.3f} mm, "
                     f"{ex.get('max_orientation_error', 0.0) * 57.29578:.3f} deg"))
    lim = xs.get("joint_limit_margins", {})
    if "min_rad" in lim:
        rows.append(("closest joint limit", f"{lim['min_rad']:.2f} rad away"))
    tim = xs.get("timing", {})
    if "duration_s" in tim:
        rows.append(("motion", f"{xs.get('move_to_start_duration_s', 0.0):.1f} s to the start "
                     f"+ {tim['duration_s']:.1f} s along the plan (the plan asks for "
                     f"{tim.get('duration_requested_s', 0):.1f} s)"))
    if xs.get("object_pose"):
        x, y, yaw = xs["object_pose"]
        rows.append(("object on the table", f"x {x:.2f} m, y {y:.2f} m, yaw {yaw:.2f} rad "
                     "(panda_link0)"))
    cmds = xs.get("gripper_commands") or []
    if cmds:
        body = "".join(
            f"<tr><td>{c.get('time', 0):.2f} s</td><td>{esc(c.get('action', ''))}</td>"
            f"<td>{esc('close' if c.get('closed') else 'open')}</td>"
            f"<td>{c.get('goal', {}).get('width', float('nan')) * 1000:.0f} mm</td></tr>"
            for c in cmds)
        rows.append(("gripper commands", '<table class="grid"><tr><th>time</th><th>command'
                     "</th><th>fingers</th><th>width</th></tr>" + body + "</table>"))
    files = " &middot; ".join(link(f"execution/{f}", f) for f in
                              ("joint_trajectory.csv", "summary.json", "execution.mp4")
                              if (run_dir / "execution" / f).is_file())
    if files:
        rows.append(("files", files))
    warns = "".join(f'<div class="warnbox">warning: {esc(scrub_paths(w, run_dir))}</div>'
                    for w in xs.get("warnings", []))
    vid = (video(run_dir, "execution/execution.mp4", made.get("poster", ""),
                 "the executed motion on the simulated Panda (pybullet)", width=400)
           if (run_dir / "execution" / "execution.mp4").is_file()
           else '<p class="fail">no execution video was written</p>')
    joints = (figure(run_dir, made["joints"], "the commanded joint trajectory (IK of the "
                     "plan): joint positions, gripper command, IK error", width=500)
              if "joints" in made else "")
    stills = (figure(run_dir, made["stills"], "stills of the video, start to end", width=760)
              if "stills" in made else "")
    return (f'<div class="card"><div class="row">{vid}{joints}</div>{stills}{warns}'
            f"{facts(rows)}</div>")


def _benchmark_body(bdir: Path, root: Path) -> str:
    s = _json(bdir / "summary.json")
    rel = bdir.relative_to(root).as_posix() if bdir != root else "."
    pre = "" if rel == "." else rel + "/"
    n, k = s.get("num_starts", 0), s.get("successes", 0)
    lo, hi = (s.get("success_ci95") or [0.0, 1.0])[:2]
    rate = s.get("success_rate", 0.0)
    cls = "ok" if rate >= 0.5 else "fail"
    rows = [("policy", esc(scrub_paths(s.get("policy", "?"), root))),
            ("start states", esc(Path(str(s.get("spec", "?"))).name)),
            ("success", f'<span class="{cls}">{100 * rate:.1f} %</span> ({k} of {n}; 95 % '
             f"interval {100 * lo:.1f}-{100 * hi:.1f} %)"),
            ("hand / object checks", f"{100 * s.get('hand_ok_rate', 0):.1f} % / "
             f"{100 * s.get('object_ok_rate', 0):.1f} %")]
    fails = s.get("failure_counts") or {}
    if fails:
        rows.append(("failures", '<span class="fail">' + esc(", ".join(
            f"{v} {kk}" for kk, v in fails.items())) + "</span>"))
    bad = [r for r in s.get("results", []) if not r.get("success")][:5]
    if bad:
        body = "".join(f"<tr><td>{esc(r.get('row'))}</td><td>{esc(_failed_check(r))}</td></tr>"
                       for r in bad)
        rows.append(("first failed starts", '<table class="grid"><tr><th>row</th><th>reason'
                     "</th></tr>" + body + "</table>"))
    t = s.get("timing", {})
    if "wall_s" in t:
        rows.append(("time", f"{t['wall_s']:.0f} s on {t.get('workers', '?')} worker(s)"))
    rows.append(("files", link(f"{pre}summary.json", "summary.json")))
    pics = (figure(root, f"{pre}marginals.png", "successes (green) and failures (red) over "
                   "each start-state variable (click to enlarge)", width=540)
            + figure(root, f"{pre}success_ratio.png", "success fraction per bin", width=540))
    return f'<div class="card">{facts(rows)}<div class="row">{pics}</div></div>'


def _answer_failure(stage: str, answer: dict, errors: dict, check_failed: str) -> str:
    """Why a node's answer of ``stage`` (rollout, execute) failed: the run's error, the answer's
    message, or ``check_failed`` + its message when the action check failed; "" when it passed."""
    if stage in errors:
        return errors[stage]
    if not answer.get("success"):
        return _first_line(answer.get("message", "no answer"))
    if not answer.get("check_passed"):
        return check_failed + _first_line(answer.get("message", ""))
    return ""


def _failed_check(r: dict) -> str:
    """The checks of a benchmark row that failed: its ``failed_reason``; rows of files written
    before it existed keep the failed part of their ``reason`` (``hand: ...; object: ...``)."""
    if r.get("error"):
        return _first_line(f"rollout error: {r['error']}", 200)
    if "failed_reason" in r:
        return _first_line(str(r["failed_reason"] or r.get("reason", "")), 200)
    reason = str(r.get("reason", ""))
    k = reason.find("object:")
    hand, obj = (reason[:k].rstrip("; "), reason[k:]) if k >= 0 else (reason, "")
    parts = ([hand] if not r.get("hand_ok", True) else []) + \
        ([obj] if not r.get("object_ok", True) and obj else [])
    return _first_line("; ".join(parts) or reason, 200)


def _node_failures(summary: dict, stages: list[Stage]) -> list[Failure]:
    out: list[Failure] = []
    if summary.get("interrupted"):  # Ctrl-C reaches the nodes too; their exits are no news
        return out
    blamed = {_NODE_OF_STAGE.get(s.name) for s in stages if s.verdict == FAILED}
    for name, info in (summary.get("nodes") or {}).items():
        if info.get("exit_description") and name not in blamed and "start" not in {
                s.name for s in stages if s.verdict == FAILED}:
            out.append(Failure("nodes", f"the {name} node {info['exit_description']} during "
                               "the run", [(f"{name}.log", info.get("log", ""))]))
    return out


def _log_links(summary: dict, stage: str) -> list[tuple[str, str]]:
    nodes = summary.get("nodes") or {}
    dead = [n for n, i in nodes.items() if i.get("exit_description")]
    names = [_NODE_OF_STAGE[stage]] if stage in _NODE_OF_STAGE else (dead or list(nodes))
    return [(f"{n}.log", nodes[n]["log"]) for n in names if nodes.get(n, {}).get("log")]


def write_pipeline_report(run_dir, summary: dict) -> Path:
    """Write ``<run_dir>/report.html`` (and ``<run_dir>/report/*.png``) for a demo run."""
    run_dir = Path(run_dir)
    notes: list[str] = []
    stages = judge_stages(summary)
    for s in stages:
        s.detail = scrub_paths(s.detail, run_dir)
    failures = [Failure(s.name, s.detail, [(lbl, rel) for lbl, rel in _log_links(summary, s.name)
                                           if (run_dir / rel).is_file()])
                for s in stages if s.verdict == FAILED]
    failures += _node_failures(summary, stages)
    made = _plots(run_dir, notes)
    videos = [str(v) for v in summary.get("videos", [])]
    wall = summary.get("wall_time_s")
    page = Page(
        title=f"Real2Sim run: {summary.get('action', '?')}",
        facts=[("action", esc(summary.get("action", "?"))),
               ("videos", esc(f"{len(videos)} ({', '.join(videos)})" if videos else "none")),
               ("policy", esc(_policy_name(summary, run_dir))),
               ("total time", f"{wall:.1f} s" if isinstance(wall, (int, float)) else "?"),
               ("started", esc(summary.get("started", "?")))],
        stages=stages, failures=failures)
    gts = summary.get("ground_truth_phases", {}) or {}
    ests = summary.get("estimates") or []
    if ests:
        cards = "".join(_video_card(run_dir, e, gts.get(str(e.get("video_id")), {}))
                        for e in ests)
        page.sections.append(Section("Videos: coarse 3-D state trajectories (estimate)",
                                     f'<div class="cards">{cards}</div>', "estimate"))
    if "rollout" in summary:
        page.sections.append(Section("The policy's plan, rolled out in simulation (rollout)",
                                     _rollout_section(run_dir, summary, made), "rollout"))
    if "execution" in summary:
        page.sections.append(Section("Execution on the simulated Panda (execute)",
                                     _execution_section(run_dir, summary, made), "execute"))
    bench = run_dir / "benchmark"
    if is_benchmark_dir(bench):
        page.sections.append(Section("Benchmark of the policy", _benchmark_body(bench, run_dir),
                                     "benchmark"))
    page.sections.append(Section("Run details", _details(run_dir, summary, notes), "details"))
    page.footer = ["Regenerate this page with <code>real2sim report &lt;run folder&gt;</code>. "
                   "All links are relative to this folder; it can be moved or archived whole."]
    return write_page(page, run_dir / "report.html")


def _details(run_dir: Path, summary: dict, notes: list[str]) -> str:
    rows = []
    nodes = summary.get("nodes") or {}
    if nodes:
        rows.append(("node logs", " &middot; ".join(
            link(i["log"], f"{n}.log") + (f' <span class="fail">({esc(i["exit_description"])})'
                                           "</span>" if i.get("exit_description") else "")
            for n, i in nodes.items() if i.get("log"))))
    topics = summary.get("bag_topics") or {}
    if (run_dir / "bag").is_dir():
        counts = ", ".join(f"{t} {c}" for t, c in topics.items()) or "no messages counted"
        rows.append(("rosbag2 (MCAP)", link("bag/metadata.yaml", "bag/") + " &middot; "
                     + esc(counts)))
    if summary.get("ros_domain_id"):
        rows.append(("ROS_DOMAIN_ID", esc(summary["ros_domain_id"])))
    if (run_dir / "summary.json").is_file():
        rows.append(("everything recorded", link("summary.json")))
    for n in notes:
        rows.append(("note", f'<span class="fail">{esc(scrub_paths(n, run_dir))}</span>'))
    return f'<div class="card">{facts(rows)}</div>'


# -- a benchmark folder ----------------------------------------------------------------------

def is_benchmark_dir(path) -> bool:
    """Whether ``path`` holds the ``summary.json`` of ``real2sim benchmark``."""
    s = _json(Path(path) / "summary.json")
    return "num_starts" in s and "success_rate" in s


def write_benchmark_report(bench_dir) -> Path:
    """Write ``<bench_dir>/report.html`` for a ``real2sim benchmark --out`` folder."""
    bench_dir = Path(bench_dir)
    s = _json(bench_dir / "summary.json")
    rate = s.get("success_rate", 0.0)
    n = s.get("num_starts", 0)
    stage = Stage("benchmark", PASSED if n and s.get("rollout_errors", 0) == 0 else FAILED,
                  f"{100 * rate:.1f} % of {n} starts succeed", s.get("timing", {}).get("wall_s"))
    failures = []
    if s.get("rollout_errors"):
        failures.append(Failure("benchmark", f"{s['rollout_errors']} rollout(s) ended with an "
                                "error (see summary.json)"))
    page = Page(title=f"Real2Sim benchmark: {s.get('action', '?')}", verdict_text="ran",
                facts=[("action", esc(s.get("action", "?"))),
                       ("start states", esc(Path(str(s.get("spec", "?"))).name)),
                       ("starts", esc(n))],
                stages=[stage], failures=failures,
                sections=[Section("Success over the start states",
                                  _benchmark_body(bench_dir, bench_dir))])
    return write_page(page, bench_dir / "report.html")
