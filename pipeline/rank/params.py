"""Parameters of the rank stage: ``[rank]`` (candidate pairs) and ``[committees]`` (committee
pairs) in default_config.toml."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CommitteeParams", "RankParams"]


@dataclass(frozen=True)
class RankParams:
    """Scoring of candidate pairs (``[rank]`` in default_config.toml).

    Pair similarity (0..1) = ``w_semantic * semantic_n + w_lexical * lexical_n + w_title *
    title + w_explicit * explicit``, clipped, where ``semantic_n`` maps the cosine
    ``semantic_floor..semantic_ceiling`` to 0..1, ``lexical_n`` maps ``0..lexical_ceiling`` to
    0..1 and ``title`` is the TF-IDF cosine of the two titles alone (a title names the part of a
    multi-part series precisely; abstracts of sibling parts read alike).

    - ``w_semantic`` (0.4), ``w_lexical`` (0.2), ``w_title`` (0.4): text similarity mix.
    - ``w_explicit`` (0.3): added for an explicit reference (1.0) or committee mention (0.5).
    - ``semantic_floor`` (0.3), ``semantic_ceiling`` (1.0): MiniLM cosines below 0.3 are noise;
      no saturation at the top, so near-identical texts still differ.
    - ``lexical_ceiling`` (1.0): TF-IDF cosine that counts as a full match.
    - ``hub_correction`` (1.0): the mix reads ``semantic_local = semantic - hub_correction *
      ((h_itu + h_other) / 2 - mean h)``, where ``h`` is an item's mean cosine to its top-k
      across the divide (match's ``hubness``). At 1.0 this is CSLS (cross-domain similarity
      local scaling, Conneau et al. 2018) shifted to the cosine's scale: a pair of texts that
      are close to everything (PICS proformas, vocabularies, "information security" in
      general) loses what its neighbourhood gives every pair. 0 = the plain cosine.

    Priority multiplier = ``(1 + w_activity*activity + w_recency*recency + early_stage_bonus*
    early) / (1 + w_activity + w_recency + early_stage_bonus)``, in (0, 1]:

    - ``w_activity`` (0.3): both sides in development matter most (resolve 2: act early).
    - ``w_recency`` (0.1), ``recency_half_life_years`` (5.0); ``reference_date`` ("" = the
      latest ``updated`` date in the items, so a re-run on the same data gives the same score).
    - ``early_stage_bonus`` (0.2): either side at proposal/preparatory/committee/under study.

    Category:

    - ``coordinated_factor`` (0.6): coordinated pairs are listed but ranked lower.
    - ``liaison_channel_factor`` (1.0): a committee-level liaison says nothing of the topic, so
      these pairs rank like new overlaps.
    - ``common_text_min_title`` (0.5): a text that calls itself "Recommendation | International
      Standard" is a common text with an ISO/IEC item only when their titles agree this much
      (TF-IDF cosine): X.508 declares itself one, but not with every JTC 1 text it resembles.
    - ``common_text_factor`` (1.0); ``out_of_step_bonus`` (0.2) added to a common text whose
      sides are out of step (one being revised, the other not).
    - ``hide_declared`` (False): ignore declared relations and explicit references (text
      signals only; used to evaluate matching and to look for undeclared overlaps).

    Filtering: a candidate is kept when ``semantic >= MatchParams.min_semantic`` or ``lexical >=
    MatchParams.min_lexical`` or it has explicit/declared evidence; ``max_pairs_per_itu`` (0 =
    no limit) keeps the best pairs per ITU-T item. ``n_shared_keyphrases`` (5) keyphrases are
    shown per pair.
    """

    w_semantic: float = 0.4
    w_lexical: float = 0.2
    w_title: float = 0.4
    w_explicit: float = 0.3
    semantic_floor: float = 0.3
    semantic_ceiling: float = 1.0
    lexical_ceiling: float = 1.0
    hub_correction: float = 1.0
    w_activity: float = 0.3
    w_recency: float = 0.1
    recency_half_life_years: float = 5.0
    reference_date: str = ""
    early_stage_bonus: float = 0.2
    coordinated_factor: float = 0.6
    liaison_channel_factor: float = 1.0
    common_text_min_title: float = 0.5
    common_text_factor: float = 1.0
    out_of_step_bonus: float = 0.2
    hide_declared: bool = False
    max_pairs_per_itu: int = 0
    n_shared_keyphrases: int = 5


@dataclass(frozen=True)
class CommitteeParams:
    """Committee pairs, ITU-T study group x counterpart (``[committees]``).

    Features (:mod:`pipeline.rank.committee_features`): ``top_m`` (3) best pair scores make
    ``strength``; ``specificity_smoothing`` (1.0, in pair-score units) keeps the PMI of small
    counts near 0. ``families`` (true): a committee with subcommittees also gets a row for its
    whole family.

    Combination: ``aggregation`` ``"model"`` scores with the linear model at ``model`` (``""`` =
    the bundled, versioned ``pipeline/rank/committee_model.json``); ``"sum"`` is the sum of pair
    scores (the TF-IDF baseline's aggregation).

    Evidence floor of the sheet: a committee pair is listed when at least ``min_pairs`` (1) of
    its candidate pairs score ``min_pair_score`` (0.0) or more, when a text of one side cites
    the other, or when its scope similarity (``scope_fwd``) is at least ``min_scope`` (0.6).
    Shown per row: ``n_top_pairs`` (3) item pairs and ``n_shared_keyphrases`` (5) shared distinctive
    keyphrases; the reason mentions specificity when the SG takes ``reason_min_lift`` (1.5)
    times or more the committee's expected share of overlap.
    """

    top_m: int = 3
    specificity_smoothing: float = 1.0
    families: bool = True
    aggregation: str = "model"
    model: str = ""
    min_pairs: int = 1
    min_pair_score: float = 0.0
    min_scope: float = 0.6
    n_top_pairs: int = 3
    n_shared_keyphrases: int = 5
    reason_min_lift: float = 1.5
