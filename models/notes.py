"""The card's prose: how this version was chosen, and every variant tried on the build's splits.

The variant figures were measured with the build's own out-of-fold procedure (5 outer folds
grouped by URL, seed 0; C and temperatures chosen inside each fold): rows marked 516 on the dev
set before 20 duplicate restatements were dropped, rows marked 496 on the de-duplicated one, rows
marked 512 on the current one (16 English rows added); splits differ between dev sets, so compare
rows only within one dev set.
"""

from __future__ import annotations

from typing import Any

NOTES: list[str] = [
    "Encoders are frozen; each head is a class-balanced multinomial logistic regression over the"
    " embeddings, a TF-IDF lexicon (word unigrams for English, character 1-3-grams of the Korean,"
    " Chinese and other non-English training texts for the multilingual head, at most 4,000 terms"
    " in >= 3 texts) fitted inside each fold, the passage's voice (both heads: one-hot, and each"
    " quoted voice together with a warning word) and direction cues (English head only: modal,"
    " negated modal, negation, negation in the clause of a pro-US or pro-China move, conditional,"
    " warning, balance words, and rhetoric that blames Washington's or Beijing's side), which the"
    " English head also reads crossed with the voice (the same move named by an editorial board"
    " and by a Beijing-side voice points opposite ways).",
    "Out-of-fold figures are nested: C and the per-language temperatures of each outer fold were"
    " chosen by grouped CV (5 inner folds) inside that fold's training part. Folds are grouped by URL.",
    "Seed-article paragraphs and pole statements are always in training; only dev passages are"
    " ever held out. The seed-article target is read from heads refitted without the seed's"
    " paragraphs ('without_seed'); the in-sample figure is shown beside it and does not count.",
    "The voice detector's rules (models/voice.py) were written while reading the dev set's"
    " passages, so its accuracy on the dev set is in-sample for the rules.",
    "The variant table lists every feature design compared on the build's splits; choosing the"
    " best of them on the dev set (and keeping the cues per head where they helped) makes this"
    " card's out-of-fold figures somewhat optimistic.",
    "The variant rows marked 516 were measured with the build's procedure but 3 inner folds and C"
    " in (0.5, 2, 8), to keep the comparisons lean on shared cores; only the last of them uses 5"
    " inner folds, as do the rows marked 496. With 5 inner folds the chosen C changed in some"
    " folds, which cost Korean and Chinese F1 (zh 0.746 to 0.696) while calibration improved"
    " (ECE 0.069 to 0.049).",
    "Each head learns from every language. The multilingual head also learns from English rows, the"
    " English head from Korean and Chinese rows (through USE; its MiniLM block, an English-only"
    " encoder, is zero for them, and its word lexicon is fitted on English texts). How much the rows"
    " a head does not serve weigh (1 or 0.3, with the seed-paragraph weight and C) is chosen by the"
    " inner CV of each outer fold, scored only on the rows the head serves.",
    "Not retried here (the issue measured them within noise of the previous model on the same"
    " data): all-mpnet-base-v2, fine-tuning MiniLM end to end, a SetFit-style body, multilingual-e5.",
]

VARIANTS: list[dict[str, Any]] = [
    {
        "dev": "516",
        "variant": "v1 design",
        "en": 0.713,
        "ko": 0.561,
        "zh": 0.666,
        "all": 0.664,
        "ece": 0.037,
        "wb": 0.225,
        "what": "embeddings + English word TF-IDF, one temperature per head (the previous model's design)",
    },
    {
        "dev": "516",
        "variant": "full",
        "en": 0.757,
        "ko": 0.673,
        "zh": 0.698,
        "all": 0.721,
        "ece": 0.056,
        "wb": 0.170,
        "what": "+ voice block and direction cues in both heads, character 1-3-grams (ko/zh), T per language",
    },
    {
        "dev": "516",
        "variant": "full, extras x3",
        "en": 0.740,
        "ko": 0.666,
        "zh": 0.675,
        "all": 0.706,
        "ece": 0.062,
        "wb": 0.162,
        "what": "full with the voice and cue blocks scaled by 3 (weaker regularisation on them)",
    },
    {
        "dev": "516",
        "variant": "full - voice",
        "en": 0.714,
        "ko": 0.619,
        "zh": 0.668,
        "all": 0.680,
        "ece": 0.058,
        "wb": 0.218,
        "what": "full without the voice block",
    },
    {
        "dev": "516",
        "variant": "full - cues",
        "en": 0.748,
        "ko": 0.705,
        "zh": 0.746,
        "all": 0.737,
        "ece": 0.036,
        "wb": 0.170,
        "what": "full without direction cues in either head",
    },
    {
        "dev": "516",
        "variant": "full - char",
        "en": 0.757,
        "ko": 0.658,
        "zh": 0.680,
        "all": 0.713,
        "ece": 0.065,
        "wb": 0.155,
        "what": "full without the character n-gram lexicon in the multilingual head",
    },
    {
        "dev": "516",
        "variant": "full, one T per head",
        "en": 0.757,
        "ko": 0.673,
        "zh": 0.698,
        "all": 0.721,
        "ece": 0.061,
        "wb": 0.170,
        "what": "full with one temperature per head instead of one per language (ECE zh 0.126 vs 0.107)",
    },
    {
        "dev": "516",
        "variant": "cues in en only, 3 inner folds",
        "en": 0.757,
        "ko": 0.705,
        "zh": 0.746,
        "all": 0.741,
        "ece": 0.069,
        "wb": 0.166,
        "what": "the committed design with 3 inner folds (an earlier build):"
        " temperatures fitted on inner models trained on 2/3 of each training part came out below 1 and"
        " made calibration worse than none (ECE 0.060 untempered); the committed build uses 5 inner folds",
    },
    {
        "dev": "516",
        "variant": "cues in en only, 5 inner folds",
        "en": 0.757,
        "ko": 0.701,
        "zh": 0.696,
        "all": 0.728,
        "ece": 0.049,
        "wb": 0.162,
        "what": "stance-3b97c04ab8c7: cues in the English head only, voice in"
        " both, character n-grams, T per language, C and T chosen with 5 inner folds",
    },
    {
        "dev": "496",
        "variant": "design of stance-3b97c04ab8c7",
        "en": 0.721,
        "ko": 0.664,
        "zh": 0.725,
        "all": 0.708,
        "ece": 0.045,
        "wb": 0.153,
        "what": "the previous design on the de-duplicated dev set"
        " (English rows weigh 1 in the multilingual head)",
    },
    {
        "dev": "496",
        "variant": "+ English-row weight chosen in the folds",
        "en": 0.721,
        "ko": 0.701,
        "zh": 0.773,
        "all": 0.729,
        "ece": 0.043,
        "wb": 0.142,
        "what": "stance-5920461d7676: the weight of English rows in the multilingual head (1 or 0.3)"
        " chosen with C by the inner CV of each outer fold; the English head is unchanged",
    },
    {
        "dev": "512",
        "variant": "design of stance-5920461d7676",
        "en": 0.713,
        "ko": 0.725,
        "zh": 0.754,
        "all": 0.725,
        "ece": 0.029,
        "wb": 0.181,
        "what": "the previous model's design on the 512-passage set",
    },
    {
        "dev": "512",
        "variant": "+ C up to 32",
        "en": 0.709,
        "ko": 0.725,
        "zh": 0.754,
        "all": 0.723,
        "ece": 0.031,
        "wb": 0.181,
        "what": "the previous design with C chosen in (0.5, 2, 8, 32) instead of (0.5, 2, 8)",
    },
    {
        "dev": "512",
        "variant": "+ voice x direction, English head",
        "en": 0.727,
        "ko": 0.725,
        "zh": 0.754,
        "all": 0.732,
        "ece": 0.049,
        "wb": 0.185,
        "what": "the previous design plus the pro-US / pro-China move cues and their negated scope crossed"
        " with the voice, in the English head",
    },
    {
        "dev": "512",
        "variant": "+ voice x direction, both heads",
        "en": 0.727,
        "ko": 0.692,
        "zh": 0.752,
        "all": 0.724,
        "ece": 0.034,
        "wb": 0.185,
        "what": "as the row above, and the same block in the multilingual head",
    },
    {
        "dev": "512",
        "variant": "+ blame rhetoric, voice x direction in English",
        "en": 0.736,
        "ko": 0.725,
        "zh": 0.754,
        "all": 0.738,
        "ece": 0.04,
        "wb": 0.141,
        "what": "stance-4e0d6b654c06: cues for rhetoric that blames one side (pawn, hegemony, 棋子, 패권;"
        " coercion, kowtow, 사대, 굴종) added to the English head's cues, and the direction cues"
        " (with these) crossed with the voice in the English head",
    },
    {
        "dev": "512",
        "variant": "committed + rhetoric block in the multilingual head",
        "en": 0.736,
        "ko": 0.73,
        "zh": 0.751,
        "all": 0.739,
        "ece": 0.048,
        "wb": 0.137,
        "what": "stance-4e0d6b654c06 plus the two blame-rhetoric flags in the multilingual head:"
        " Korean +0.005, Chinese -0.003, W↔B -0.4 points, ECE +0.008; within noise, not kept",
    },
    {
        "dev": "512",
        "variant": "+ English head learns from Korean and Chinese rows (committed)",
        "en": 0.747,
        "ko": 0.725,
        "zh": 0.754,
        "all": 0.743,
        "ece": 0.047,
        "wb": 0.13,
        "what": "this card: stance-4e0d6b654c06's features, and the English head also fitted on the"
        " Korean and Chinese rows through USE (MiniLM block zero for them; word lexicon from English"
        " texts), their weight (1 or 0.3) chosen with C in the inner CV; the multilingual head is unchanged",
    },
]
"""Rows: variant, per-language macro-F1, all-language macro-F1, ECE (15 bins), W↔B share, what it is.

The design since stance-3b97c04ab8c7 ("cues in en only") keeps the cues in
the English head, where they helped, and drops them from the multilingual head, where the
single-character negators (不, 없) made them noisy and the character n-grams already carry
them.
"""
