"""report.html rendered by headless Chromium, offline: the page must paint, not stay blank."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from helpers_export import build_result
from matplotlib.image import imread

from pipeline.export import write_outputs

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """``$CHROMIUM`` or the first Chromium-like binary on PATH."""
    explicit = os.environ.get("CHROMIUM")
    if explicit and shutil.which(explicit):
        return shutil.which(explicit)
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


def screenshot(browser: str, page: Path, out: Path, profile: Path, size: str = "1400,2000") -> None:
    """Headless, no network services, a throw-away profile."""
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={out}",
            f"--window-size={size}",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.browser
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = find_browser()
    if browser is None:
        pytest.skip("no chromium binary on PATH (set $CHROMIUM or apt-get install chromium)")
    write_outputs(tmp_path / "run", build_result(n_extra=30, n_pairs=300, hostile=True))
    shot = tmp_path / "report.png"
    screenshot(browser, tmp_path / "run" / "report.html", shot, tmp_path / "profile")
    pixels = imread(shot)[..., :3]
    assert pixels.shape[0] == 2000 and pixels.shape[1] == 1400
    not_white = (pixels < 0.95).any(axis=2).mean()
    assert not_white > 0.05, f"only {not_white:.1%} of the page is painted"
    assert np.unique(pixels.reshape(-1, 3).round(2), axis=0).shape[0] > 50  # plots, not text
