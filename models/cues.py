"""Direction cues beside the embeddings: modality, negation scope, conditionals, warnings, poles.

Frozen sentence embeddings place a passage by topic, so "Seoul should join the US containment
of China" and "Seoul should not join it" land close together. These binary features carry what
the embeddings blur, in English, Korean and Chinese: a modal ("should", 应当, 해야), a negated
modal ("should not", 不应/不要/不能, 않아야/안 된다/말아야), a negation inside the clause of a
pro-US or pro-China move (its scope), conditionals, warnings of a price, balance words, and the
rhetoric that blames one side ("pawn", "hegemony", 棋子, 패권 against Washington's camp;
"coercion", "kowtow", 사대, 굴종 against Beijing's). An editorial in its own voice carries its
direction in whom it blames, which topic-placing embeddings miss.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.voice import VOICES


def _alt(english: str, cjk: str) -> str:
    """An English regex and space-separated Korean/Chinese alternatives as one alternation."""
    return english + "|" + "|".join(cjk.split())


_PATTERNS: dict[str, str] = {
    "modal": _alt(
        r"\b(?:should|must|ought to|needs? to|has to|have to)\b",
        r"应当 应该 必须 需要 應當 應該 해야 하여야 필요가\s*있",
    ),
    "neg_modal": _alt(
        r"\b(?:should not|shouldn't|must not|mustn't|cannot|can't|need not|ought not|should never|must never"
        r"|do not|don't|never)\b",
        r"不应 不要 不能 不得 不该 不可 别 勿 不應 不該"
        r" 않아야 안\s*된다 안\s*되 말아야 말라 말고 해서는\s*안",
    ),
    "negation": _alt(r"\b(?:not|no|never|neither|nor|without|n't)\b", "不 没 未 非 無 无 않 못 없 아니"),
    "conditional": _alt(
        r"\b(?:if|unless|should seoul|were seoul|in case)\b", "如果 若 一旦 假如 倘若 要是 다면 경우 한다면"
    ),
    "warning": _alt(
        r"\b(?:warn\w*|price|pay\w*|consequences?|retaliat\w*|punish\w*|red line|threat\w*|pressure)\b",
        "代价 后果 後果 报复 報復 警告 红线 紅線 施压 施壓 대가 보복 경고 후과 압박 레드라인",
    ),
    "balance": _alt(
        r"\b(?:balanc\w*|both|middle|ambigu\w*|neither|hedg\w*|pragmat\w*"
        r"|not (?:to )?(?:choose|pick|take sides))\b",
        "平衡 均衡 两边 兩邊 模糊 不选边 不選邊 实用 實用 균형 모호 양쪽 줄타기 실용 등거리",
    ),
    "toward_us": _alt(
        r"\b(?:allian\w*|ally|allies|align\w*|side with (?:the us|washington|america)|trilateral|containment"
        r"|indo-pacific|quad|thaad|chip 4|decoupl\w*)\b",
        "同盟 盟友 靠拢 追随 追隨 美日韩 美日韓 萨德 薩德 遏制 围堵 圍堵 동맹 한미일 사드 칩4 견제 밀착",
    ),
    "toward_cn": _alt(
        r"\b(?:closer to (?:china|beijing)|tilt\w* toward (?:china|beijing)"
        r"|cooperation with (?:china|beijing)|pro-china|largest trading partner"
        r"|friendly neighbou?r|three nos)\b",
        r"中韩合作 中韓合作 亲中 親中 睦邻 睦鄰 三不 한중\s*협력 친중 3불 삼불 최대\s*교역",
    ),
    "blame_us": _alt(
        r"\b(?:hegemon\w*|pawns?|foot soldiers?|chess pieces?|cold war|bloc|mini-nato|vassal\w*|puppet\w*"
        r"|lackeys?|outposts?|forward base|do(?:es|ing)? washington's bidding|tools? of washington)\b",
        "霸权 霸權 棋子 马前卒 馬前卒 冷战 冷戰 阵营对抗 陣營對抗 小北约 小北約 附庸 走卒 前哨"
        " 패권 장기말 하수인 앞잡이 꼭두각시 신냉전 진영\\s*대결 종속",
    ),
    "blame_cn": _alt(
        r"\b(?:coerc\w*|bull(?:y|ies|ied|ying)|intimidat\w*|sovereign\w*|interfer\w*|meddl\w*|overstep\w*"
        r"|arrogan\w*|kowtow\w*|subservien\w*|submissive\w*|tributary|high-handed)\b",
        "胁迫 脅迫 사대 굴종 굴욕 저자세 주권 내정\\s*간섭 겁박 횡포 오만 무례",
    ),
}
_CLAUSE = re.compile(r"[.;:!?。；：！？,，]")
CUE_NAMES: tuple[str, ...] = (*_PATTERNS, "neg_scope_us", "neg_scope_cn")
"""Column names of ``cue_features``."""
VOICE_NAMES: tuple[str, ...] = (*(f"voice_{v}" for v in VOICES), *(f"voice_{v}_warning" for v in VOICES[1:]))
"""Column names of ``voice_block``: the voice one-hot, and each quoted voice together with a warning."""
DIRECTIONS: tuple[str, ...] = (
    "toward_us",
    "toward_cn",
    "neg_scope_us",
    "neg_scope_cn",
    "blame_us",
    "blame_cn",
)
"""The cues that carry a direction (a pro-US or pro-China move, either one negated, and the
rhetoric that blames one side: "pawn", "hegemony" against Washington; "coercion", "kowtow" against
Beijing)."""
RHETORIC: tuple[str, ...] = ("blame_us", "blame_cn")
"""The blame-rhetoric cues, a block of their own for heads that do not read every cue."""
VOICE_DIRECTION_NAMES: tuple[str, ...] = tuple(f"voice_{v}_{d}" for v in VOICES for d in DIRECTIONS)
"""Column names of ``voice_direction_block``: each direction cue crossed with each voice."""


@dataclass(frozen=True)
class CueSpec:
    """The cue patterns, clause splitter and direction/rhetoric groups a head was fitted with.

    A model version stores the spec of its heads (``models.registry``), so a version keeps computing
    the features its weights expect when the patterns in this module change later. Every spec needs
    the cues ``neg_modal``, ``negation``, ``toward_us``, ``toward_cn`` and ``warning``; two negation
    scope columns follow the patterns.
    """

    patterns: tuple[tuple[str, str], ...]
    clause: str = _CLAUSE.pattern
    directions: tuple[str, ...] = DIRECTIONS
    rhetoric: tuple[str, ...] = RHETORIC

    @property
    def names(self) -> tuple[str, ...]:
        """Column names of ``features``."""
        return (*(name for name, _ in self.patterns), "neg_scope_us", "neg_scope_cn")

    def to_json(self) -> str:
        """The spec as a JSON string (stored with a model version)."""
        return json.dumps(
            {
                "patterns": [list(p) for p in self.patterns],
                "clause": self.clause,
                "directions": list(self.directions),
                "rhetoric": list(self.rhetoric),
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> CueSpec:
        """A spec from ``to_json`` output."""
        raw = json.loads(text)
        return cls(
            tuple((str(n), str(p)) for n, p in raw["patterns"]),
            str(raw["clause"]),
            tuple(raw["directions"]),
            tuple(raw["rhetoric"]),
        )

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """(n, len(names)) cue rows of texts."""
        if not texts:
            return np.zeros((0, len(self.names)))
        compiled = _compile(self)
        return np.vstack([_row(t, compiled, re.compile(self.clause)) for t in texts])

    def voice_block(self, texts: Sequence[str], voices: Sequence[str]) -> np.ndarray:
        """(n, len(VOICE_NAMES)): the voice one-hot, and quoted voice × this spec's warning cue."""
        return _voice_block(texts, voices, _compile(self)["warning"])

    def voice_direction_block(self, cues: np.ndarray, voices: Sequence[str]) -> np.ndarray:
        """(n, voices × directions): this spec's direction cues of ``features`` rows, per voice."""
        columns = [self.names.index(d) for d in self.directions]
        out = np.zeros((len(voices), len(VOICES) * len(columns)))
        for row, voice in enumerate(voices):
            if voice in VOICES:
                start = VOICES.index(voice) * len(columns)
                out[row, start : start + len(columns)] = cues[row, columns]
        return out


@functools.lru_cache(maxsize=16)
def _compile(spec: CueSpec) -> dict[str, re.Pattern[str]]:
    """The spec's patterns compiled once."""
    return {name: re.compile(pattern, re.I) for name, pattern in spec.patterns}


def _row(text: str, compiled: dict[str, re.Pattern[str]], clause: re.Pattern[str]) -> np.ndarray:
    """The cue features of one text under compiled patterns (0/1 values)."""
    clauses = [c for c in clause.split(text) if c.strip()] or [text]
    flags = [{name: bool(p.search(c)) for name, p in compiled.items()} for c in clauses]
    whole = [float(any(f[name] for f in flags)) for name in compiled]
    negated = [f["neg_modal"] or f["negation"] for f in flags]
    scope_us = any(n and f["toward_us"] for n, f in zip(negated, flags, strict=True))
    scope_cn = any(n and f["toward_cn"] for n, f in zip(negated, flags, strict=True))
    return np.array([*whole, float(scope_us), float(scope_cn)])


def _voice_block(texts: Sequence[str], voices: Sequence[str], warning: re.Pattern[str]) -> np.ndarray:
    """The voice one-hot and quoted voice × warning."""
    out = np.zeros((len(texts), len(VOICE_NAMES)))
    for row, (text, voice) in enumerate(zip(texts, voices, strict=True)):
        if voice in VOICES:
            out[row, VOICES.index(voice)] = 1.0
            if voice != "author" and warning.search(text):
                out[row, len(VOICES) + VOICES.index(voice) - 1] = 1.0
    return out


CURRENT = CueSpec(tuple(_PATTERNS.items()))
"""The spec of this module's patterns: what a newly built head reads."""


def cue_row(text: str) -> np.ndarray:
    """The cue features of one text (0/1 values) under the current patterns."""
    return _row(text, _compile(CURRENT), _CLAUSE)


def cue_features(texts: Sequence[str]) -> np.ndarray:
    """(n, len(CUE_NAMES)) cue rows of texts under the current patterns."""
    return CURRENT.features(texts)


def voice_block(texts: Sequence[str], voices: Sequence[str]) -> np.ndarray:
    """(n, len(VOICE_NAMES)): the voice one-hot, and quoted voice × warning cue."""
    return CURRENT.voice_block(texts, voices)


def voice_direction_block(cues: np.ndarray, voices: Sequence[str]) -> np.ndarray:
    """(n, len(VOICE_DIRECTION_NAMES)): the direction cues of ``cue_features`` rows, per voice.

    A move toward the alliance means one thing from an editorial board and the opposite when a
    Beijing-side voice names it; a linear head needs the product to tell them apart.
    """
    return CURRENT.voice_direction_block(cues, voices)
