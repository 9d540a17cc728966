"""report.html: self-contained, complete, and robust to an empty run."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from helpers_export import build_result

from pipeline.export.readme import ISO_ATTRIBUTION
from pipeline.export.report import heat_matrix, project_2d, render_report
from pipeline.results import RunResult
from pipeline.utils.safety import is_body_url


@pytest.fixture(scope="module")
def page() -> str:
    return render_report(build_result(n_extra=20, n_pairs=200))


def test_report_is_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    # No remote resource of any kind: only inline images; links are plain anchors.
    sources = re.findall(r'src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(is_body_url(h.replace("&amp;", "&")) for h in hrefs)
    assert not re.search(r"<link\b|<script\b|@import|url\(", page)
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 2


def test_report_tells_the_story(page: str) -> None:
    for heading in (
        "Counts per body and category",
        "Areas of common interest",
        "Committee pairs",
        "candidate pairs</h2>",
    ):
        assert heading in page
    assert "X.1051" in page and "ISO/IEC 27011" in page
    assert "SG17" in page and "ISO/IEC JTC 1/SC 27" in page
    assert ISO_ATTRIBUTION in page
    assert 'href="https://www.itu.int/ITU-T/workprog/wp_item.aspx?isn=' in page


def test_report_of_an_empty_run_still_renders() -> None:
    empty = RunResult(
        items=pd.DataFrame(columns=["uid", "body"]),
        committees=pd.DataFrame(),
        vectors=np.zeros((0, 8), dtype=np.float32),
        pairs=pd.DataFrame(),
        committee_pairs=pd.DataFrame(),
        areas=pd.DataFrame(),
    )
    page = render_report(empty)
    assert "nothing to plot in this run" in page
    assert "<img" not in page


def test_heat_matrix_orders_study_groups_numerically() -> None:
    frame = pd.DataFrame(
        {
            "itu_sg": ["SG17", "SG2", "SG5", "TSAG"],
            "counterpart": ["ISO/IEC JTC 1/SC 27", "ISO/TC 204", "CISPR", "ISO/TC 204"],
            "score": [0.9, 0.5, 0.7, 0.1],
        }
    )
    matrix = heat_matrix(frame)
    assert list(matrix.index) == ["SG2", "SG5", "SG17", "TSAG"]
    assert matrix.columns[0] == "ISO/IEC JTC 1/SC 27"
    assert np.isnan(matrix.loc["SG2", "CISPR"])


def test_projection_shapes() -> None:
    rng = np.random.default_rng(0)
    assert project_2d(rng.normal(size=(10, 16))).shape == (10, 2)
    assert project_2d(rng.normal(size=(1, 16))).shape == (1, 2)
    assert project_2d(rng.normal(size=(5, 1))).shape == (5, 2)
