"""HTML building blocks of the run reports: a headline with a verdict per stage, failures in
red, cards with figures, videos and phase timelines, and small fact tables.

A report is a :class:`Page` written by :func:`write_page` into one ``report.html`` that needs no
network (inline CSS, no scripts) and links its pictures and videos by paths relative to its
own folder, so the run folder can be moved, zipped or served as it is. Text that came from a
run (node messages, file names) goes through :func:`scrub_paths`, and :func:`write_page`
refuses to write a page that still holds an absolute path of this machine.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from real2sim_core.errors import InputError

__all__ = ["Stage", "Failure", "Section", "Page", "write_page", "scrub_paths",
           "absolute_paths_in", "figure", "video", "facts", "timeline", "verdict_badge",
           "link", "esc", "PASSED", "FAILED", "SKIPPED", "WARNING"]

PASSED, FAILED, SKIPPED, WARNING = "passed", "failed", "skipped", "warning"
_VERDICTS = (PASSED, FAILED, SKIPPED, WARNING)


@dataclass
class Stage:
    """One stage of a run in the headline.

    Attributes:
        name: e.g. ``"estimate"``. verdict: one of passed / failed / skipped / warning.
        detail: one short line (what came out, or why it failed). seconds: wall time or None.
    """

    name: str
    verdict: str
    detail: str = ""
    seconds: float | None = None

    def __post_init__(self):
        if self.verdict not in _VERDICTS:
            raise InputError(f"Stage.verdict: {self.verdict!r} is not one of {_VERDICTS}")


@dataclass
class Failure:
    """A failure shown in red at the top: the stage, the reason, optional links (relative)."""

    stage: str
    reason: str
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, relative path)


@dataclass
class Section:
    """A titled block of already-rendered HTML (built from the helpers of this module)."""

    title: str
    body: str
    anchor: str = ""


@dataclass
class Page:
    """A whole report.

    Attributes:
        title: heading. facts: ``(label, value)`` pairs under it (action, videos, total time).
        stages: the headline verdicts, in run order. failures: red boxes under the headline.
        sections: the body. footer: small print (run folder layout, how to regenerate).
    """

    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    verdict_text: str = ""  # the headline badge's words when the run passed (default below)

    @property
    def verdict(self) -> str:
        if self.failures or any(s.verdict == FAILED for s in self.stages):
            return FAILED
        if any(s.verdict == WARNING for s in self.stages):
            return WARNING
        return PASSED


# -- text ------------------------------------------------------------------------------------

# A path that starts at a top-level directory of this machine (/tmp, /home, /work, ...).
# ROS names such as /real2sim/plan or /joint_states are not paths and are kept.
_ABS_PATH = re.compile(r"(?<![\w.~:/<-])/[\w.+@-]+(?:/[\w.+@-]*)*")


def _top_dirs() -> set[str]:
    try:
        return {e.name for e in os.scandir("/") if e.is_dir()}
    except OSError:
        return set()


def _is_machine_path(p: str) -> bool:
    first = p.lstrip("/").split("/", 1)[0]
    return bool(first) and first in _top_dirs()


def absolute_paths_in(text: str) -> list[str]:
    """The absolute file-system paths of this machine found in ``text`` (for checks)."""
    return [m.group(0) for m in _ABS_PATH.finditer(text) if _is_machine_path(m.group(0))]


def scrub_paths(text: str, root) -> str:
    """``text`` with every absolute path made relative to ``root`` when it lies below it,
    else shortened to ``.../<last two parts>``."""
    root_s = os.path.realpath(root)

    def repl(m):
        p = m.group(0)
        if not _is_machine_path(p):
            return p
        trail = ""
        while p.endswith((".", ",")) and len(p) > 1:  # sentence punctuation after a path
            trail = p[-1] + trail
            p = p[:-1]
        real = os.path.realpath(p)
        if real == root_s:
            return "." + trail
        if real.startswith(root_s + os.sep):
            return os.path.relpath(real, root_s) + trail
        parts = [x for x in p.split("/") if x]
        return ".../" + "/".join(parts[-2:]) + trail

    return _ABS_PATH.sub(repl, str(text))


def esc(text) -> str:
    return html.escape(str(text), quote=True)


# -- pieces ----------------------------------------------------------------------------------

_BADGE_TEXT = {PASSED: "passed", FAILED: "FAILED", SKIPPED: "not run", WARNING: "warning"}


def verdict_badge(verdict: str, text: str = "") -> str:
    return f'<span class="badge {verdict}">{esc(text or _BADGE_TEXT[verdict])}</span>'


def _check_rel(rel: str) -> str:
    if rel.startswith(("/", "\\")) or re.match(r"^[a-zA-Z][\w+.-]*:", rel):
        raise InputError(f"report link {rel!r} is not a relative path")
    return rel


def link(rel: str, label: str = "") -> str:
    """A link to a file next to the report (``rel`` relative to the report's folder)."""
    return f'<a href="{esc(_check_rel(rel))}">{esc(label or rel)}</a>'


def figure(root: Path, rel: str, caption: str = "", width: int = 0) -> str:
    """An image (PNG/GIF/JPEG/SVG) next to the report, with a caption; a missing file is
    shown as missing, in red."""
    _check_rel(rel)
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    if not (Path(root) / rel).is_file():
        return (f'<figure class="missing"><div class="fail">missing: {esc(rel)}</div>'
                f"{cap}</figure>")
    style = f' style="width:{width}px"' if width else ""
    return (f'<figure{style}><a href="{esc(rel)}"><img src="{esc(rel)}" '
            f'alt="{esc(caption or rel)}"></a>{cap}</figure>')


def video(root: Path, rel: str, poster: str = "", caption: str = "", width: int = 0) -> str:
    """A looping muted video (MP4/WebM) next to the report, with an optional poster image."""
    _check_rel(rel)
    cap = f"<figcaption>{esc(caption)} ({link(rel, 'file')})</figcaption>"
    if not (Path(root) / rel).is_file():
        return f'<figure class="missing"><div class="fail">missing: {esc(rel)}</div>{cap}</figure>'
    pst = (f' poster="{esc(_check_rel(poster))}"'
           if poster and (Path(root) / poster).is_file() else "")
    style = f' style="width:{width}px"' if width else ""
    return (f'<figure{style}><video src="{esc(rel)}"{pst} controls muted loop playsinline '
            f'preload="metadata"></video>{cap}</figure>')


def facts(rows, cls: str = "facts") -> str:
    """A two-column table of ``(label, value_html)``; values are HTML (escape them first)."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="{cls}">{body}</table>'


def timeline(n_frames: int, bands, predicted=None, fps: float = 0.0) -> str:
    """A frame axis with ground-truth bands and the predicted interval.

    Args:
        n_frames: frames of the video.
        bands: ``[(label, (start, stop), css_class)]`` ground-truth intervals, 0-based, stop
            exclusive (empty when unknown).
        predicted: ``(start, stop)`` or None.
        fps: frame rate for the seconds label (0: frames only).
    """
    n = max(int(n_frames), 1)

    def seg(a, b, cls, label):
        left, wid = 100.0 * a / n, max(100.0 * (b - a) / n, 0.6)
        tip = f"{label}: frames {a + 1}-{b}"
        return (f'<div class="seg {cls}" style="left:{left:.2f}%;width:{wid:.2f}%" '
                f'title="{esc(tip)}"><span>{esc(label)}</span></div>')

    rows = []
    if bands:
        segs = "".join(seg(a, b, cls, label) for label, (a, b), cls in bands)
        rows.append(f'<div class="tl-row"><div class="tl-label">ground truth</div>'
                    f'<div class="tl-bar">{segs}</div></div>')
    else:
        rows.append('<div class="tl-row"><div class="tl-label">ground truth</div>'
                    '<div class="tl-bar"><span class="tl-none">not annotated</span></div></div>')
    if predicted is not None:
        a, b = predicted
        rows.append(f'<div class="tl-row"><div class="tl-label">estimated</div>'
                    f'<div class="tl-bar">{seg(a, b, "pred", "action phase")}</div></div>')
    secs = f" = {n / fps:.1f} s" if fps else ""
    rows.append(f'<div class="tl-row"><div class="tl-label"></div><div class="tl-axis">'
                f"<span>frame 1</span><span>frame {n}{secs}</span></div></div>")
    return '<div class="timeline">' + "".join(rows) + "</div>"


# -- page ------------------------------------------------------------------------------------

_CSS = """
:root { --ok:#17803d; --okbg:#e7f6ec; --bad:#b42318; --badbg:#fdecea; --warn:#9a6700;
        --warnbg:#fff4d6; --skip:#667085; --skipbg:#f2f4f7; --line:#d0d5dd; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       color: #1d2939; background: #f7f8fa; }
main { max-width: 1180px; margin: 0 auto; padding: 18px 24px 40px; }
h1 { font-size: 1.55em; margin: .2em 0 .1em; }
h1 .badge { font-size: .6em; vertical-align: middle; }
h2 { font-size: 1.2em; margin: 1.6em 0 .5em; border-bottom: 2px solid var(--line);
     padding-bottom: .2em; }
h3 { font-size: 1.02em; margin: 0 0 .4em; }
.sub { color: #475467; margin: 0 0 .8em; } .sub b { color: #1d2939; }
.stages { display: flex; gap: 10px; flex-wrap: wrap; margin: .6em 0 1em; }
.stage { flex: 1 1 220px; border-radius: 8px; padding: 10px 12px; border: 1px solid var(--line);
         background: #fff; border-left-width: 6px; }
.stage.passed { border-left-color: var(--ok); } .stage.failed { border-left-color: var(--bad);
  background: var(--badbg); } .stage.skipped { border-left-color: var(--skip); color: #667085; }
.stage.warning { border-left-color: var(--warn); background: var(--warnbg); }
.stage .name { font-weight: 600; text-transform: capitalize; }
.stage .secs { float: right; color: #667085; font-size: .9em; }
.stage .detail { font-size: .9em; margin-top: .25em; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: .82em;
         font-weight: 600; }
.badge.passed { background: var(--okbg); color: var(--ok); }
.badge.failed { background: var(--bad); color: #fff; }
.badge.skipped { background: var(--skipbg); color: var(--skip); }
.badge.warning { background: var(--warnbg); color: var(--warn); }
.failure { background: var(--badbg); border: 1px solid #f4b4ae; border-left: 6px solid var(--bad);
           color: var(--bad); border-radius: 6px; padding: 8px 12px; margin: 6px 0; }
.failure b { text-transform: capitalize; } .failure a { color: var(--bad); }
.warnbox { background: var(--warnbg); border-left: 6px solid var(--warn); color: #7a5200;
           border-radius: 6px; padding: 6px 12px; margin: 6px 0; font-size: .92em; }
.fail { color: var(--bad); font-weight: 600; } .ok { color: var(--ok); font-weight: 600; }
.cards { display: flex; flex-wrap: wrap; gap: 14px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
        flex: 1 1 520px; min-width: 0; }
.card.wide { flex-basis: 100%; } .grow { flex: 1 1 300px; min-width: 0; }
.card.failed { border-color: #f4b4ae; border-left: 6px solid var(--bad); }
.row { display: flex; gap: 12px; flex-wrap: wrap; align-items: flex-start; }
figure { margin: 0; } figcaption { font-size: .8em; color: #667085; margin-top: 2px; }
figure[style] img, figure[style] video { width: 100%; }
img, video { max-width: 100%; border: 1px solid #e4e7ec; border-radius: 4px; display: block;
             background: #fff; }
figure.missing { padding: 20px; border: 1px dashed var(--bad); border-radius: 4px; }
table.facts { border-collapse: collapse; font-size: .9em; margin: .3em 0; }
table.facts th { text-align: left; font-weight: 500; color: #475467; padding: 2px 12px 2px 0;
                 vertical-align: top; white-space: nowrap; }
table.facts td { padding: 2px 0; }
table.grid { border-collapse: collapse; font-size: .88em; margin: .3em 0; }
table.grid th, table.grid td { border: 1px solid #e4e7ec; padding: 2px 8px; text-align: left; }
table.grid th { background: #f2f4f7; font-weight: 600; }
.timeline { margin: 8px 0 4px; font-size: .8em; }
.tl-row { display: flex; align-items: center; margin: 2px 0; }
.tl-label { width: 86px; color: #475467; flex: none; }
.tl-bar { position: relative; flex: 1; height: 20px; background: #eef0f3; border-radius: 3px; }
.tl-axis { flex: 1; display: flex; justify-content: space-between; color: #667085; }
.tl-none { position: absolute; left: 6px; top: 2px; color: #98a2b3; }
.seg { position: absolute; top: 0; height: 100%; border-radius: 3px; overflow: hidden;
       white-space: nowrap; color: #fff; padding-left: 4px; line-height: 20px; }
.seg.approach, .seg.leave { background: #98a2b3; } .seg.action { background: #2e90fa; }
.seg.pred { background: #f79009; }
details { margin-top: .6em; } summary { cursor: pointer; color: #475467; }
code { background: #f2f4f7; padding: 0 3px; border-radius: 3px; font-size: .9em; }
footer { margin-top: 2em; color: #667085; font-size: .85em; }
"""


def _stage_html(s: Stage) -> str:
    secs = f'<span class="secs">{s.seconds:.1f} s</span>' if s.seconds is not None else ""
    return (f'<div class="stage {s.verdict}">{secs}<span class="name">{esc(s.name)}</span> '
            f"{verdict_badge(s.verdict)}<div class=\"detail\">{esc(s.detail)}</div></div>")


def _failure_html(f: Failure) -> str:
    links = "".join(f" &middot; {link(rel, label)}" for label, rel in f.links)
    return f'<div class="failure"><b>{esc(f.stage)}</b>: {esc(f.reason)}{links}</div>'


def render_page(page: Page) -> str:
    """The page as one HTML string."""
    verdict = page.verdict
    head_badge = {PASSED: page.verdict_text or "all stages passed",
                  WARNING: "passed with warnings", FAILED: "FAILED"}[verdict]
    sub = " &middot; ".join(f"{esc(k)} <b>{v}</b>" for k, v in page.facts)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(page.title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{esc(page.title)} {verdict_badge(verdict, head_badge)}</h1>",
        f'<p class="sub">{sub}</p>' if sub else "",
    ]
    if page.stages:
        parts.append('<div class="stages">' + "".join(_stage_html(s) for s in page.stages)
                     + "</div>")
    parts.extend(_failure_html(f) for f in page.failures)
    for sec in page.sections:
        anchor = f' id="{esc(sec.anchor)}"' if sec.anchor else ""
        parts.append(f"<h2{anchor}>{esc(sec.title)}</h2>{sec.body}")
    if page.footer:
        parts.append("<footer>" + "<br>".join(page.footer) + "</footer>")
    parts.append("</main></body></html>")
    return "\n".join(p for p in parts if p)


def write_page(page: Page, path) -> Path:
    """Write ``page`` to ``path`` (its folder is the root of every link).

    Raises:
        ValueError: the page would show an absolute path of this machine (a report must stay
            valid when the run folder is moved); the message names the path.
    """
    path = Path(path)
    text = render_page(page)
    bad = absolute_paths_in(text)
    if bad:
        raise InputError(f"report {path.name}: refusing to write absolute path(s) "
                         f"{', '.join(sorted(set(bad))[:3])}; pass text through scrub_paths")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
