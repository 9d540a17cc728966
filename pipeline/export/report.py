"""``report.html``: one self-contained page telling the run's story with plots.

It opens from disk with no network: plots are PNGs (matplotlib, Agg canvas, no pyplot state)
inlined as base64, styles are inline, and a Content-Security-Policy forbids scripts and remote
loads. All source text is escaped; links go only to the bodies' own pages.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from string import Template
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pipeline.export.cells import as_number, is_missing, join_list
from pipeline.export.readme import CATEGORY_TEXT, PURPOSE, attribution_lines, body_counts
from pipeline.results import RunResult
from pipeline.utils.safety import is_body_url
from pipeline.utils.text import clean_text

__all__ = ["BODY_COLOURS", "area_map_png", "heat_map_png", "project_2d", "render_report"]

BODY_COLOURS: dict[str, str] = {
    "ITU-T": "#0072BC",
    "ISO": "#C8102E",
    "IEC": "#2E7D32",
    "ISO/IEC": "#7B3F99",
}
_OTHER_COLOUR = "#7F8C8D"
_MAX_TEXT = 600
TOP_PAIRS = 30
TOP_COMMITTEE_PAIRS = 20
HEAT_ROWS = 20
HEAT_COLUMNS = 15
AREA_LABELS = 10


# --- text and links --------------------------------------------------------------------------


def esc(value: Any, limit: int = _MAX_TEXT) -> str:
    """Escaped plain text (control characters out, lists joined, cut at ``limit``)."""
    if is_missing(value):
        return ""
    if isinstance(value, (list, tuple, np.ndarray)):
        value = join_list(value)
    text = clean_text(str(value))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=True)


def link(text: Any, url: Any) -> str:
    """``text`` as a link when ``url`` is a body page; escaped text otherwise."""
    label = esc(text) or "page"
    target = "" if is_missing(url) else str(url).strip()
    if not is_body_url(target):
        return esc(text)
    href = html.escape(target, quote=True)
    return f'<a href="{href}" rel="noopener noreferrer nofollow">{label}</a>'


def plot_text(value: Any, limit: int = 40) -> str:
    """Text for a plot label: ``$`` escaped so matplotlib never reads it as mathtext."""
    text = clean_text("" if is_missing(value) else str(value)).replace("\n", " ")
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def table_html(
    headers: Sequence[str], rows: Iterable[Sequence[str]], row_classes: Iterable[str] = ()
) -> str:
    """A table from already-escaped cell HTML (cells are ``(html, css_class)`` or ``html``)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    classes = list(row_classes)
    for i, row in enumerate(rows):
        cells = []
        for cell in row:
            content, css = cell if isinstance(cell, tuple) else (cell, "")
            cells.append(f'<td class="{css}">{content}</td>' if css else f"<td>{content}</td>")
        css = f' class="{classes[i]}"' if i < len(classes) and classes[i] else ""
        body.append(f"<tr{css}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def num(value: Any, digits: int = 2) -> tuple[str, str]:
    """A right-aligned number cell."""
    number = as_number(value)
    if number is None:
        return ("", "num")
    text = f"{number:.{digits}f}" if isinstance(number, float) else str(number)
    return (text, "num")


# --- figures ---------------------------------------------------------------------------------


def figure_png(figure: Figure) -> str:
    """A ``data:`` URI of the figure as PNG."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def project_2d(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """(n, 2) coordinates: TruncatedSVD of the (normalised) vectors; zeros when too few."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) < 2:
        return np.zeros((len(vectors) if vectors.ndim else 0, 2), dtype=np.float32)
    if vectors.shape[1] <= 2:
        return np.pad(vectors, ((0, 0), (0, 2 - vectors.shape[1])))
    from sklearn.decomposition import TruncatedSVD  # heavy import, only when plotting

    centred = vectors - vectors.mean(axis=0, keepdims=True)
    return TruncatedSVD(n_components=2, random_state=seed).fit_transform(centred)


def _area_labels(areas: pd.DataFrame) -> dict[int, str]:
    """Area id -> short label (first three keyphrases) for the largest areas."""
    if areas.empty or "area" not in areas.columns:
        return {}
    top = areas.sort_values("size", ascending=False) if "size" in areas.columns else areas
    labels = {}
    for record in top.head(AREA_LABELS).to_dict("records"):
        words = [w.strip() for w in str(record.get("label", "")).split(";") if w.strip()]
        labels[int(record["area"])] = "; ".join(words[:3])
    return labels


def area_map_png(result: RunResult) -> str:
    """The 2-D map of items coloured by body, largest areas labelled; ``""`` when no vectors."""
    items = result.items
    vectors = np.asarray(result.vectors)
    if vectors.ndim != 2 or len(vectors) < 2 or len(vectors) != len(items):
        return ""
    xy = project_2d(vectors)
    figure = Figure(figsize=(9, 6.5))
    ax = figure.add_subplot()
    bodies = items["body"].astype(str).to_numpy()
    for body in [*BODY_COLOURS, *sorted(set(bodies) - set(BODY_COLOURS))]:
        mask = bodies == body
        if mask.any():
            ax.scatter(
                xy[mask, 0],
                xy[mask, 1],
                s=float(np.clip(4000 / len(xy), 6, 30)),
                alpha=0.6,
                color=BODY_COLOURS.get(body, _OTHER_COLOUR),
                label=f"{plot_text(body)} ({int(mask.sum())})",
                linewidths=0,
            )
    if "area" in items.columns:
        area_of = pd.to_numeric(items["area"], errors="coerce").fillna(-1).to_numpy()
        for area, label in _area_labels(result.areas).items():
            mask = area_of == area
            if mask.any() and label:
                x, y = xy[mask].mean(axis=0)
                ax.text(
                    x, y, plot_text(label), fontsize=8, ha="center", parse_math=False,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.75, "lw": 0},
                )  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("Items projected to 2-D (TruncatedSVD of the text embeddings)")
    ax.legend(loc="best", fontsize=8, frameon=True)
    return figure_png(figure)


def _sg_key(name: str) -> tuple[int, str]:
    """``SG2`` before ``SG17``; TSAG and others after the study groups."""
    match = re.fullmatch(r"SG(\d+)", name)
    return (int(match.group(1)), name) if match else (10_000, name)


def heat_matrix(committee_pairs: pd.DataFrame) -> pd.DataFrame:
    """Study groups (rows) x top counterparts (columns) of committee-pair scores (NaN = none)."""
    needed = {"itu_sg", "counterpart", "score"}
    if committee_pairs.empty or not needed <= set(committee_pairs.columns):
        return pd.DataFrame()
    frame = committee_pairs[["itu_sg", "counterpart", "score"]].copy()
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
    frame["itu_sg"] = frame["itu_sg"].astype(str)
    frame["counterpart"] = frame["counterpart"].astype(str)
    top_counterparts = (
        frame.groupby("counterpart")["score"].max().sort_values(ascending=False).head(HEAT_COLUMNS)
    )
    frame = frame[frame["counterpart"].isin(top_counterparts.index)]
    top_sgs = frame.groupby("itu_sg")["score"].max().sort_values(ascending=False).head(HEAT_ROWS)
    frame = frame[frame["itu_sg"].isin(top_sgs.index)]
    matrix = frame.pivot_table(index="itu_sg", columns="counterpart", values="score", aggfunc="max")
    rows = sorted(matrix.index, key=_sg_key)
    return matrix.loc[rows, [c for c in top_counterparts.index if c in matrix.columns]]


def heat_map_png(committee_pairs: pd.DataFrame) -> str:
    """Heat map of :func:`heat_matrix`; ``""`` when there are no committee pairs."""
    matrix = heat_matrix(committee_pairs)
    if matrix.empty:
        return ""
    n_rows, n_cols = matrix.shape
    figure = Figure(figsize=(max(6.0, 0.75 * n_cols + 3), max(3.0, 0.45 * n_rows + 2.5)))
    ax = figure.add_subplot()
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(values), cmap="YlOrRd", vmin=0, aspect="auto")
    ax.set_xticks(range(n_cols), labels=[plot_text(c, 28) for c in matrix.columns])
    ax.set_yticks(range(n_rows), labels=[plot_text(r, 12) for r in matrix.index])
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.tick_params(axis="y", labelsize=9)
    vmax = np.nanmax(values) if np.isfinite(values).any() else 1.0
    for (r, c), value in np.ndenumerate(values):
        if np.isfinite(value):
            colour = "white" if value > 0.6 * vmax else "black"
            ax.text(c, r, f"{value:.2f}", ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(image, ax=ax, label="committee-pair score", shrink=0.8)
    ax.set_title("ITU-T study groups × counterpart committees (top counterparts)")
    return figure_png(figure)


# --- sections --------------------------------------------------------------------------------


def _figure(src: str, alt: str, caption: str) -> str:
    if not src:
        return f'<p class="small">{html.escape(alt)}: nothing to plot in this run.</p>'
    return (
        f'<figure><img src="{src}" alt="{html.escape(alt)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def counts_section(result: RunResult) -> str:
    """Items per body, and candidate pairs per category x counterpart body."""
    counts = body_counts(result.items)
    items_table = table_html(
        ["Body", "Items", "Active", "Committees"],
        [
            [esc(r["body"]), num(r["items"], 0), num(r["active"], 0), num(r["committees"], 0)]
            for r in counts.to_dict("records")
        ],
    )
    pairs = result.pairs
    if pairs.empty or not {"category", "other_body"} <= set(pairs.columns):
        return f"<h2>Counts</h2><div class='grid'>{items_table}</div>"
    cross = pd.crosstab(pairs["category"].astype(str), pairs["other_body"].astype(str))
    order = [c for c in CATEGORY_TEXT if c in cross.index] + [
        c for c in cross.index if c not in CATEGORY_TEXT
    ]
    cross = cross.loc[order]
    pair_table = table_html(
        ["Category", *[str(c) for c in cross.columns], "All", "Meaning"],
        [
            [
                esc(cat),
                *[num(v, 0) for v in cross.loc[cat]],
                num(int(cross.loc[cat].sum()), 0),
                esc(CATEGORY_TEXT.get(cat, "")),
            ]
            for cat in cross.index
        ],
        [f"cat-{cat}" for cat in cross.index],
    )
    return (
        "<h2>Counts per body and category</h2>"
        f"<div class='grid'><div>{items_table}</div><div>{pair_table}</div></div>"
    )


def committee_section(committee_pairs: pd.DataFrame) -> str:
    """The heat map and the top committee pairs."""
    figure = _figure(
        heat_map_png(committee_pairs),
        "Heat map of study groups by counterpart committees",
        "Each cell is the committee-pair score (higher = more to coordinate); blank = no pair.",
    )
    top = (
        committee_pairs.sort_values("rank").head(TOP_COMMITTEE_PAIRS)
        if len(committee_pairs) and "rank" in committee_pairs.columns
        else committee_pairs.head(TOP_COMMITTEE_PAIRS)
    )
    rows = [
        [
            num(r.get("rank"), 0),
            num(r.get("score")),
            esc(r.get("itu_sg")),
            esc(r.get("counterpart")),
            num(r.get("n_pairs"), 0),
            num(r.get("n_common_text"), 0),
            num(r.get("n_new_overlap"), 0),
            "yes" if r.get("liaison_declared") is True else "",
            (esc(r.get("top_pairs")), "reason"),
            (esc(r.get("reason")), "reason"),
        ]
        for r in top.to_dict("records")
    ]
    table = table_html(
        ["Rank", "Score", "ITU-T SG", "Counterpart", "Pairs", "Common texts", "New overlaps",
         "Liaison", "Top pairs", "Reason"],
        rows,
    )  # fmt: skip
    return f"<h2>Committee pairs</h2>{figure}<h3>Top {len(rows)}</h3>{table}"


def pairs_section(pairs: pd.DataFrame) -> str:
    """The top candidate pairs with their reasons and evidence."""
    top = pairs.sort_values("rank").head(TOP_PAIRS) if "rank" in pairs.columns else pairs
    rows = []
    classes = []
    for r in top.head(TOP_PAIRS).to_dict("records"):
        itu = f"{link(r.get('itu_reference') or r.get('itu_uid'), r.get('itu_url'))}"
        other = f"{link(r.get('other_reference') or r.get('other_uid'), r.get('other_url'))}"
        rows.append(
            [
                num(r.get("rank"), 0),
                num(r.get("score")),
                esc(r.get("category")),
                f"{itu}<br><span class='small'>{esc(r.get('itu_committee'))} "
                f"{esc(r.get('itu_group'))}</span>",
                (esc(r.get("itu_title")), "title"),
                f"{other}<br><span class='small'>{esc(r.get('other_committee'))}</span>",
                (esc(r.get("other_title")), "title"),
                (esc(r.get("reason")), "reason"),
                (esc(r.get("evidence")), "reason"),
            ]
        )
        classes.append(f"cat-{esc(r.get('category'))}")
    table = table_html(
        ["Rank", "Score", "Category", "ITU-T", "ITU-T title", "ISO / IEC", "Title", "Reason",
         "Evidence"],
        rows,
        classes,
    )  # fmt: skip
    return f"<h2>Top {len(rows)} candidate pairs</h2>{table}"


def areas_section(result: RunResult) -> str:
    """The area map and the largest areas."""
    figure = _figure(
        area_map_png(result),
        "Map of areas of common interest",
        "Each dot is an item; nearby dots talk about similar things. Labels name the largest "
        "areas by their distinctive keyphrases.",
    )
    areas = result.areas
    if "size" in areas.columns:
        areas = areas.sort_values("size", ascending=False)
    rows = [
        [
            num(r.get("area"), 0),
            (esc(r.get("label")), "title"),
            num(r.get("size"), 0),
            num(r.get("n_itu_t"), 0),
            num(r.get("n_iso"), 0),
            num(r.get("n_iec"), 0),
            num(r.get("n_iso_iec"), 0),
            (esc(r.get("committees")), "reason"),
        ]
        for r in areas.head(15).to_dict("records")
    ]
    table = table_html(
        ["Area", "Label", "Size", "ITU-T", "ISO", "IEC", "ISO/IEC", "Committees"], rows
    )
    return f"<h2>Areas of common interest</h2>{figure}{table}"


def render_report(result: RunResult) -> str:
    """The whole page as a string."""
    meta = result.meta or {}
    run = esc(meta.get("run_id", "")) or "unnamed run"
    created = esc(meta.get("created", ""))
    summary = (
        f"Run {run}{' · ' + created if created else ''} · {len(result.items)} items · "
        f"{len(result.pairs)} candidate pairs · {len(result.committee_pairs)} committee pairs · "
        f"{len(result.areas)} areas · {len(result.errors)} errors"
    )
    body = "".join(
        [
            counts_section(result),
            areas_section(result),
            committee_section(result.committee_pairs),
            pairs_section(result.pairs),
        ]
    )
    footer = "<br>".join(esc(line) for line in attribution_lines(result))
    template = Template(
        resources.files("pipeline.export").joinpath("templates/report.html").read_text("utf-8")
    )
    return template.substitute(
        title="ITU-T / ISO / IEC overlaps (WTSA Resolution 7)",
        meta=summary,
        purpose=esc(PURPOSE, 2000),
        body=body,
        footer=footer,
    )
