"""Item files as people really save them: Excel's BOM, a stray Latin-1 byte, a huge cell,
the same rows twice (issue 13, cases 2 and 6). Nothing is lost, nothing is silent."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from pipeline.sources.items_files import decode_item_file, load_item_files

HEADER = "uid,body,committee,title,text"
ROWS = [
    f"ISO:{n},ISO,ISO/TC 204,Intelligent transport systems part {n},Résumé of part {n}"
    for n in range(1, 11)
]


def write(path: Path, lines: list[str], encoding: str = "utf-8", bom: bytes = b"") -> Path:
    path.write_bytes(bom + ("\n".join(lines) + "\n").encode(encoding))
    return path


def test_excel_bom_is_stripped_whichever_column_comes_first(tmp_path: Path) -> None:
    uid_first = write(tmp_path / "a.csv", [HEADER, *ROWS], bom=b"\xef\xbb\xbf")
    parsed = load_item_files([uid_first])
    assert parsed.errors == []
    assert parsed.items["uid"].tolist()[:2] == ["ISO:1", "ISO:2"]  # given uids, not derived
    body_first = write(
        tmp_path / "b.csv",
        ["body,committee,title", "ISO,ISO/TC 204,Road vehicles", "IEC,TC 86,Fibre optics"],
        bom=b"\xef\xbb\xbf",
    )
    parsed = load_item_files([body_first])
    assert parsed.errors == [] and len(parsed.items) == 2
    assert parsed.sources[0]["encoding"] == "utf-8-sig"


def test_one_latin1_byte_keeps_every_row_and_names_its_line(tmp_path: Path) -> None:
    lines = [HEADER, *ROWS]
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    # Line 8 (the 7th row) gets one Latin-1 "é" in the middle of a UTF-8 file.
    raw = raw.replace(b"part 7,", b"part 7 \xe9,", 1)
    path = tmp_path / "mixed.csv"
    path.write_bytes(raw)
    parsed = load_item_files([path])
    assert len(parsed.items) == 10  # nothing after the byte is dropped
    (error,) = parsed.errors
    assert error.location == f"{path}:8"
    assert "0xe9" in error.reason
    titles = dict(zip(parsed.items["uid"], parsed.items["title"], strict=True))
    assert titles["ISO:7"].endswith("part 7 é")
    assert parsed.items["text"].iloc[0] == "Résumé of part 1"  # UTF-8 lines untouched
    assert parsed.sources[0]["encoding"] == "utf-8+cp1252"


def test_a_cp1252_file_is_read_as_such_and_recorded(tmp_path: Path) -> None:
    path = write(tmp_path / "excel.csv", [HEADER, *ROWS], encoding="cp1252")
    parsed = load_item_files([path])
    assert parsed.errors == []
    assert parsed.items["text"].iloc[0] == "Résumé of part 1"
    assert parsed.sources[0]["encoding"] == "cp1252"


def test_utf16_with_bom_is_read() -> None:
    text = HEADER + "\n" + ROWS[0] + "\n"
    decoded = decode_item_file(text.encode("utf-16"))
    assert decoded.encoding == "utf-16" and decoded.text == text


def test_a_cell_over_the_csv_field_limit_keeps_the_file(tmp_path: Path) -> None:
    huge = "x" * 200_000  # Python's csv default limit is 131,072 characters
    path = write(tmp_path / "big.csv", [HEADER, *ROWS[:3], f'ISO:99,ISO,ISO/TC 1,Big,"{huge}"'])
    parsed = load_item_files([path])
    assert parsed.errors == []
    assert len(parsed.items) == 4
    assert len(parsed.items.set_index("uid").loc["ISO:99", "text"]) == 200_000


def test_duplicate_uids_within_and_across_files_are_errors_with_both_places(
    tmp_path: Path,
) -> None:
    first = write(tmp_path / "one.csv", [HEADER, ROWS[0], ROWS[1], ROWS[0].replace("part", "P")])
    second = write(tmp_path / "two.csv", [HEADER, ROWS[1].replace("part", "again"), ROWS[2]])
    parsed = load_item_files([first, second])
    assert parsed.items["uid"].tolist() == ["ISO:1", "ISO:2", "ISO:3"]
    assert parsed.items["title"].tolist()[0].endswith("part 1")  # the first one kept
    reasons = {e.location: e.reason for e in parsed.errors}
    assert reasons == {
        f"{first}:4": f"duplicate uid 'ISO:1': first at {first}:2 (kept), this row skipped",
        f"{second}:2": f"duplicate uid 'ISO:2': first at {first}:3 (kept), this row skipped",
    }
    assert [s["errors"] for s in parsed.sources] == [1, 1]


def test_ten_thousand_identical_rows_are_not_errors_zero(tmp_path: Path) -> None:
    row = "ITU-T,SG17,Security of QKD networks"
    path = tmp_path / "same.csv.gz"
    path.write_bytes(gzip.compress(("body,committee,title\n" + f"{row}\n" * 10_000).encode()))
    parsed = load_item_files([path])
    assert len(parsed.items) == 1
    assert len(parsed.errors) == 9_999
    assert all("duplicate uid" in e.reason for e in parsed.errors)


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_a_truncated_gzip_keeps_what_was_read(tmp_path: Path, suffix: str) -> None:
    lines = [
        f'{{"body": "ISO", "committee": "ISO/TC 204", "title": "Part {n}"}}' for n in range(500)
    ]
    data = ("\n".join(lines) + "\n").encode()
    path = tmp_path / f"items{suffix}"
    if suffix.endswith(".gz"):
        whole = gzip.compress(data)
        path.write_bytes(whole[: len(whole) * 2 // 3])
    else:
        path.write_bytes(data)
    parsed = load_item_files([path])
    if suffix.endswith(".gz"):
        assert 0 < len(parsed.items) < 500
        assert any("damaged gzip" in e.reason for e in parsed.errors)
    else:
        assert len(parsed.items) == 500 and parsed.errors == []


def test_run_json_lists_each_item_file_encoding(tmp_path: Path) -> None:
    from pipeline.embed import HashingEmbedder
    from pipeline.enrich import load_nlp
    from pipeline.run import RunOptions, run_pipeline

    excel = write(tmp_path / "excel.csv", [HEADER, *ROWS], encoding="cp1252")
    itu = write(
        tmp_path / "itu.csv",
        ["body,committee,title", "ITU-T,SG16,Intelligent transport systems communication"],
        bom=b"\xef\xbb\xbf",
    )
    options = RunOptions(
        items_files=[excel, itu],
        out_dir=tmp_path / "runs",
        embedder=HashingEmbedder(),
        nlp=load_nlp("no-such-model-so-blank"),
    )
    run_dir, _ = run_pipeline(options)
    meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert {i["path"]: i["encoding"] for i in meta["inputs"]} == {
        str(excel): "cp1252",
        str(itu): "utf-8-sig",
    }
