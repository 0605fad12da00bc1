"""Checks a run report must pass: every link relative and resolving inside the run folder, no
absolute path of this machine in the page, and a headless-Chromium screenshot that shows the
headline's colours."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from real2sim_bringup.report import absolute_paths_in

_LINK = re.compile(r'(?:href|src|poster)="([^"]*)"')


def check_links_and_paths(report: Path, forbidden=()) -> str:
    """Assert the page's links are relative and exist; no absolute path appears. Returns it."""
    text = report.read_text(encoding="utf-8")
    assert absolute_paths_in(text) == [], absolute_paths_in(text)[:5]
    for f in forbidden:
        assert str(f) not in text, f"{f} appears in {report.name}"
    links = _LINK.findall(text)
    assert links, "the report links no file"
    for rel in links:
        assert not rel.startswith("/") and ":" not in rel.split("/")[0], rel
        target = (report.parent / rel).resolve()
        assert target.is_relative_to(report.parent.resolve()), rel
        assert target.exists(), f"{report.name} links {rel}, which does not exist"
    return text


def screenshot(report: Path, out_png: Path, height: int = 1600) -> np.ndarray:
    """Render ``report`` in headless Chromium; returns the screenshot (H, W, 3) uint8."""
    import imageio.v2 as imageio

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (scripts/install_test_tools.sh, run by "
                    "`make test`, installs it) - the screenshot check needs it")
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--no-first-run", "--hide-scrollbars",
                        f"--user-data-dir={out_png.parent / 'chromium-profile'}",
                        f"--screenshot={out_png}", f"--window-size=1200,{height}",
                        report.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return np.asarray(imageio.imread(out_png))[..., :3]


def colour_fraction(img: np.ndarray, rgb, tol: int = 30) -> float:
    """Fraction of pixels within ``tol`` (per channel) of ``rgb``."""
    d = np.abs(img.astype(int) - np.asarray(rgb, dtype=int)).max(axis=-1)
    return float((d <= tol).mean())


FAIL_RED = (0xB4, 0x23, 0x18)       # failure text, FAILED badges, failure box border
FAIL_BG = (0xFD, 0xEC, 0xEA)        # failure box and failed stage background
PASS_GREEN = (0x17, 0x80, 0x3D)     # passed stage border, "passed" badge text
