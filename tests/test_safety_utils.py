"""Untrusted text stays inert; files appear whole."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.utils.io import atomic_path, atomic_write_text, open_text
from pipeline.utils.safety import MAX_CELL_CHARS, is_body_url, safe_cell, safe_url
from pipeline.utils.text import clean_text, html_to_text


@pytest.mark.parametrize("hostile", ["=1+1", "+1", "-2", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_formula_starts_are_neutralised(hostile: str) -> None:
    assert safe_cell(hostile).startswith("'")


def test_plain_text_is_unchanged_and_long_text_is_cut_visibly() -> None:
    assert safe_cell("Quantum key distribution") == "Quantum key distribution"
    cut = safe_cell("x" * 40_000)
    assert len(cut) <= MAX_CELL_CHARS
    assert cut.endswith("text too long]")


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://www.itu.int/ITU-T/workprog/wp_item.aspx?isn=21308", True),
        ("https://www.iso.org/standard/62085.html", True),
        ("https://webstore.iec.ch/en/publication/85813", True),
        ("javascript:alert(1)", False),
        ("https://standards.iteh.ai/catalog/x", False),
        ("https://iso.org.evil.example/x", False),
        ("https://user:pw@www.itu.int/", False),
        ("ftp://www.itu.int/x", False),
    ],
)
def test_only_body_urls_are_links(url: str, ok: bool) -> None:
    assert is_body_url(url) is ok
    assert (safe_url(url) == url) is ok


def test_html_to_text_keeps_blocks_apart_and_drops_markup() -> None:
    text = html_to_text("<p>One&amp;two</p><ol><li>three<li>four</ol><script>x()</script>")
    assert text.split("\n") == ["One&two", "three", "four"]


def test_atomic_write_leaves_nothing_on_failure(tmp_path) -> None:
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
    atomic_write_text(target, "whole")
    assert target.read_text() == "whole"


def test_open_text_reads_gzip_transparently(tmp_path) -> None:
    import gzip

    path = tmp_path / "items.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write('{"a": 1}\n')
    with open_text(path) as fh:
        assert fh.read() == '{"a": 1}\n'


def test_atomic_outputs_are_readable_like_any_file(tmp_path) -> None:
    import os

    umask = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "r.csv", "x")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def _clean_text_reference(text: str) -> str:
    """clean_text before its fast path: every rule applied to every value."""
    import unicodedata

    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", text)
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


@given(
    st.text(alphabet=st.sampled_from(list("ab \t\n\r\u00a0\x00\x85\u2003e\u0301é")), max_size=30)
)
def test_clean_text_fast_path_changes_nothing(text: str) -> None:
    assert clean_text(text) == _clean_text_reference(text)
