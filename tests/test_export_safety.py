"""Hostile source text stays inert in the workbook, the CSV twins and the report."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pytest
from helpers_export import HOSTILE, build_result

from pipeline.utils.safety import MAX_CELL_CHARS, TRUNCATION_MARK, is_body_url

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pipeline.export import write_outputs

    folder = tmp_path_factory.mktemp("hostile")
    write_outputs(folder, build_result(n_extra=4, hostile=True))
    return folder


def workbook_strings(path: Path) -> list[tuple[str, object]]:
    book = openpyxl.load_workbook(path)
    out = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula in {sheet.title}!{cell.coordinate}"
                if isinstance(cell.value, str):
                    out.append((f"{sheet.title}!{cell.coordinate}", cell.value))
    return out


def test_no_cell_in_the_workbook_can_run(run_dir: Path) -> None:
    strings = workbook_strings(run_dir / "overlaps.xlsx")
    for where, value in strings:
        assert not value.startswith(DANGEROUS_START), where
        assert not CONTROL.search(value), where
        assert len(value) <= MAX_CELL_CHARS, where
    values = [v for _, v in strings]
    assert "'" + HOSTILE["formula"] in values
    assert "'+1+1" in values and "'-2" in values and "'@SUM(A1)" in values
    assert "'cmd" in values  # the tab that started it is gone, the quote stays
    assert any(v.endswith(TRUNCATION_MARK) for v in values)
    assert "bellandescapenull" in values


def test_no_formula_in_the_raw_sheet_xml(run_dir: Path) -> None:
    import zipfile

    with zipfile.ZipFile(run_dir / "overlaps.xlsx") as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert "<f>" not in archive.read(name).decode("utf-8"), name


@pytest.mark.parametrize("name", ["candidate_pairs.csv", "committee_pairs.csv", "areas.csv"])
def test_no_csv_field_can_run(run_dir: Path, name: str) -> None:
    with open(run_dir / name, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) > 1
    for row in rows:
        for value in row:
            assert not value.startswith(DANGEROUS_START) or _is_number(value), value
            assert not CONTROL.search(value)
            assert len(value) <= MAX_CELL_CHARS


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def test_csv_urls_are_body_pages_or_empty(run_dir: Path) -> None:
    with open(run_dir / "candidate_pairs.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    urls = [r[c] for r in rows for c in ("itu_url", "other_url") if r[c]]
    assert urls and all(is_body_url(u) for u in urls)


def test_report_escapes_text_and_links_only_to_body_pages(run_dir: Path) -> None:
    page = (run_dir / "report.html").read_text("utf-8")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(is_body_url(h.replace("&amp;", "&")) for h in hrefs)
    assert "javascript:" not in " ".join(hrefs)
    sources = re.findall(r'src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not CONTROL.search(page)
