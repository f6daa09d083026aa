"""One colour and one readable name per country, outlet kind, language and outlet, in every chart,
and the CJK font the charts fall back to (Debian's fonts-noto-cjk) so Korean and Chinese render."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

COUNTRY_NAMES = {
    "KR": "South Korea",
    "CN": "China",
    "US": "United States",
    "JP": "Japan",
    "HK": "Hong Kong",
    "TW": "Taiwan",
    "SG": "Singapore",
    "AU": "Australia",
    "GB": "United Kingdom",
    "KP": "North Korea",
    "RU": "Russia",
    "QA": "Qatar",
    "FR": "France",
    "DE": "Germany",
    "IN": "India",
    "SE": "Sweden",
    "TR": "Türkiye",
    "VN": "Vietnam",
    "PH": "Philippines",
    "MY": "Malaysia",
    "ID": "Indonesia",
    "CA": "Canada",
    "NZ": "New Zealand",
    "IT": "Italy",
    "ES": "Spain",
    "NL": "Netherlands",
    "CH": "Switzerland",
    "IL": "Israel",
    "AE": "United Arab Emirates",
    "BR": "Brazil",
    "ZZ": "Unknown / international",
    "(unknown)": "Unknown source",
}
KIND_NAMES = {
    "newspaper": "Newspapers",
    "think-tank": "Think tanks",
    "think_tank": "Think tanks",
    "state-media": "State media",
    "state_media": "State media",
    "wire": "Wire services",
    "blog": "Blogs & aggregators",
    "(unknown)": "Unknown source",
}
AFFILIATION_NAMES = {
    "state": "State",
    "independent": "Independent",
    "public": "Public",
    "conservative": "Conservative",
    "progressive": "Progressive",
    "(unknown)": "Unknown source",
    "(none)": "Not stated",
}
LANGUAGE_NAMES = {
    "en": "English",
    "ko": "Korean",
    "zh": "Chinese",
    "ja": "Japanese",
    "ru": "Russian",
    "de": "German",
    "pt": "Portuguese",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "id": "Indonesian",
    "vi": "Vietnamese",
    "(unknown)": "Unknown language",
    "": "Unknown language",
}

FIXED = {
    ("country", "KR"): "#1f77b4",
    ("country", "CN"): "#d62728",
    ("country", "US"): "#2ca02c",
    ("country", "JP"): "#9467bd",
    ("country", "HK"): "#ff7f0e",
    ("country", "TW"): "#17becf",
    ("country", "ZZ"): "#7f7f7f",
    ("kind", "newspaper"): "#4c72b0",
    ("kind", "think-tank"): "#55a868",
    ("kind", "state-media"): "#c44e52",
    ("kind", "state_media"): "#c44e52",
    ("kind", "wire"): "#8172b3",
    ("kind", "blog"): "#937860",
    ("language", "en"): "#3b6ea8",
    ("language", "ko"): "#2a9d8f",
    ("language", "zh"): "#e76f51",
}
SPARE = ("#8c564b", "#e377c2", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#c5b0d5", "#c49c94")
ALL_OUTLETS = "#111111"
CJK_FONT_NAMES = ("Noto Sans CJK JP", "Noto Sans CJK KR", "Noto Sans CJK SC", "Noto Sans CJK TC")
CJK_FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/noto"))


def color(kind: str, value: str) -> str:
    """The colour of a group value, the same in every chart (fixed for known values, else by hash)."""
    if (kind, value) in FIXED:
        return FIXED[(kind, value)]
    digest = int(hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:8], 16)
    return SPARE[digest % len(SPARE)]


def display_name(kind: str, value: str) -> str:
    """A readable name for a group value ('KR' → 'South Korea', 'think-tank' → 'Think tanks')."""
    tables = {"country": COUNTRY_NAMES, "kind": KIND_NAMES, "affiliation": AFFILIATION_NAMES}
    tables["language"] = LANGUAGE_NAMES
    known = tables.get(kind, {})
    if value in known:
        return known[value]
    pretty = value.replace("_", " ").replace("-", " ").capitalize()
    return pretty if kind in ("kind", "affiliation") else value


@functools.cache
def cjk_font() -> str | None:
    """The family name of an installed Noto CJK font (registered with matplotlib), or None."""
    from matplotlib import font_manager  # here: a pipeline run imports this module's names only

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONT_NAMES:
        if name in installed:
            return name
    for folder in CJK_FONT_DIRS:
        for path in sorted(folder.glob("NotoSansCJK*.tt[cf]")) if folder.is_dir() else []:
            font_manager.fontManager.addfont(str(path))
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONT_NAMES if n in installed), None)


def font_family() -> list[str]:
    """matplotlib's font.family: DejaVu Sans first, then the CJK font as fallback (when installed)."""
    cjk = cjk_font()
    return ["DejaVu Sans", cjk] if cjk else ["DejaVu Sans"]
