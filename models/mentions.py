"""Whether a passage names South Korea: the second condition of the article relevance rule.

The axis places South Korea between Washington and Beijing, so an article whose relevant passages
never name Korea has no place on it, however much it says about the two capitals (a page on US–China
trade talks, Hong Kong's protests or a US defence secretary in Hanoi). A passage names Korea when it
mentions Korea or Koreans, Seoul, the ROK, the presidential office or a South Korean president by
name, in English, Chinese (any 韩/韓: 韩国, 美韩, 韩方 ...) or Korean. A Korean-language passage always
counts: Korean commentary says "우리 정부" or "우리나라" (our government, our country) where English
would say Seoul, and a fifth of the dev set's relevant Korean passages name the country no other way.

North Korea matches too: the rule is a necessary condition for a score, not a topic classifier; the
heads still decide whether a passage is relevant.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

KOREA_MENTION = "korea_mention"
"""Name of the rule in a version's head file (``article_rules``) and in its card."""

_KOREA = re.compile(
    r"\bkorea|\bseoul\b|\b(?-i:ROK)\b|\bblue house\b|\bcheong wa dae\b|\byongsan\b"
    r"|\bmoon jae[- ]in\b|\byoon suk[- ]yeol\b|\blee jae[- ]myung\b|\bpark geun[- ]hye\b|\blee myung[- ]bak\b"
    r"|[韩韓]|首尔|首爾|汉城|漢城|青瓦台|文在寅|尹锡悦|尹錫悅|李在明|朴槿惠"
    r"|한국|대한민국|서울|한미|한중|청와대|용산",
    re.IGNORECASE,
)
ALWAYS_NAMES_KOREA = frozenset({"ko"})
"""Passage languages that count as naming Korea by themselves (see the module docstring)."""


def names_korea(text: str, language: str | None = None) -> bool:
    """Whether a passage names South Korea (a Korean-language passage always does)."""
    return language in ALWAYS_NAMES_KOREA or _KOREA.search(text) is not None


def korea_mentions(texts: Sequence[str], languages: Sequence[str | None]) -> list[bool]:
    """``names_korea`` of each passage, in order."""
    return [names_korea(t, lang) for t, lang in zip(texts, languages, strict=True)]
