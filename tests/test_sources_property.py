"""Property tests: parsers never raise on arbitrary input; they return records or errors."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.sources import iec, iso, itu_t
from pipeline.sources.common import ParseOutput

_TAGS = st.sampled_from(["td", "tr", "table", "span", "div", "select", "option", "h1", "a", "p"])
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_LABELS = st.sampled_from(["Work item:", "Subject/title:", "Status:", "Liaison:", "Scope", "[SG3]"])


@st.composite
def html_soup(draw) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 12))):
        tag = draw(_TAGS)
        inner = draw(st.one_of(_TEXT, _LABELS))
        attrs = draw(
            st.sampled_from(
                ["", ' id="ctl00_x_lbl_subject"', ' href="wp_item.aspx?isn=12"', ' value="9"']
            )
        )
        closing = draw(st.booleans())
        parts.append(f"<{tag}{attrs}>{inner}" + (f"</{tag}>" if closing else ""))
    return "".join(parts)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=15,
)

_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ok(out: ParseOutput) -> None:
    assert isinstance(out, ParseOutput)
    assert out.records or out.errors or out.dropped == 0


@_SETTINGS
@given(st.one_of(html_soup(), st.binary(max_size=200)))
def test_html_parsers_never_raise(page) -> None:
    for parse in (
        itu_t.parse_wp_item,
        itu_t.parse_wp_block,
        iec.parse_dashboard,
        iec.parse_work_programme,
        iec.parse_publication_page,
    ):
        out = parse(page, "https://www.itu.int/x?isn=1")
        _ok(out)
        for rec in out.records:
            assert rec["title"]
    page_ = itu_t.parse_wp_search(page, "u")
    assert isinstance(page_.rows, list)


@_SETTINGS
@given(_json_values)
def test_json_parsers_never_raise(value) -> None:
    text = json.dumps(value)
    _ok(iec.parse_search_json(text, "u"))
    _ok(
        iec.parse_search_json(
            json.dumps({"primary": {"hits": {"hits": [{"_source": value}]}}}), "u"
        )
    )
    lines = [text + "\n", json.dumps({"reference": "ISO 1", "currentStage": value}) + "\n"]
    _ok(iso.parse_deliverables_jsonl(lines, "f"))
    _ok(iso.parse_committees_jsonl(lines, "f"))
    _ok(itu_t.parse_recommendation_records(text, "f"))
    _ok(iec.parse_committee_records(text, "f"))
