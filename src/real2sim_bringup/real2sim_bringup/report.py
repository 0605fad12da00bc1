"""HTML report of one pipeline run: estimate, rollout, execution and the action checks.

:func:`write_report` takes a :class:`ReportInputs` (paths relative to the report's directory,
plus small result dicts) and writes a self-contained ``report.html`` that links the GIFs,
PNGs and MP4 next to it. Missing artefacts are listed as missing, never silently dropped.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ReportInputs", "write_report"]


@dataclass
class ReportInputs:
    """What a report shows.

    Attributes:
        title: page title.
        action: action registry name.
        sections: ordered ``(heading, [artefact paths relative to the report dir])``.
        results: ordered ``(heading, dict)`` tables (check results, errors, timings).
        notes: free-text lines (e.g. which policy was used and why).
    """

    title: str
    action: str
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    results: list[tuple[str, dict]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
.grid { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; } figcaption { font-size: .85em; color: #555; }
img, video { max-width: 520px; border: 1px solid #ddd; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .25em .6em; }
.pass { color: #17803d; font-weight: bold; } .fail { color: #b42318; font-weight: bold; }
.missing { color: #b42318; }
"""


def _artefact(root: Path, rel: str) -> str:
    name = html.escape(rel)
    if not (root / rel).is_file():
        return f'<figure><p class="missing">missing: {name}</p></figure>'
    ext = Path(rel).suffix.lower()
    if ext in (".png", ".gif", ".jpg", ".jpeg", ".svg"):
        body = f'<a href="{name}"><img src="{name}" alt="{name}"></a>'
    elif ext in (".mp4", ".webm"):
        body = f'<video src="{name}" controls muted loop preload="metadata"></video>'
    else:
        body = f'<a href="{name}">{name}</a>'
    return f"<figure>{body}<figcaption>{name}</figcaption></figure>"


def _cell(v) -> str:
    if isinstance(v, bool):
        return f'<span class="{"pass" if v else "fail"}">{"pass" if v else "fail"}</span>'
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (dict, list)):
        return f"<code>{html.escape(json.dumps(v)[:300])}</code>"
    return html.escape(str(v))


def write_report(inputs: ReportInputs, path) -> Path:
    """Write ``report.html`` at ``path``; artefact paths are relative to its directory."""
    path = Path(path)
    root = path.parent
    root.mkdir(parents=True, exist_ok=True)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(inputs.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(inputs.title)}</h1>",
        f"<p>Action: <b>{html.escape(inputs.action)}</b></p>",
    ]
    if inputs.notes:
        parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in inputs.notes)
                     + "</ul>")
    for heading, table in inputs.results:
        rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{_cell(v)}</td></tr>"
                       for k, v in table.items())
        parts.append(f"<h2>{html.escape(heading)}</h2><table>{rows}</table>")
    for heading, files in inputs.sections:
        figs = "".join(_artefact(root, f) for f in files)
        parts.append(f'<h2>{html.escape(heading)}</h2><div class="grid">{figs}</div>')
    parts.append("</body></html>")
    path.write_text("\n".join(parts))
    return path
