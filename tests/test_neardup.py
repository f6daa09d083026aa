"""Near-duplicate fingerprints: syndicated copies match, different stories do not."""

from __future__ import annotations

import itertools
import json

import numpy as np

from flows.ingest import dedup as neardup
from flows.tools.demo_site import BENCH_DIR

KOREAN = (
    "한국 정부는 미국과의 동맹을 강화하면서도 중국과의 경제 협력을 유지하겠다고 밝혔다. "
    "외교부 관계자는 실용 외교를 통해 양국 사이에서 균형을 잡겠다고 설명했다. "
    "전문가들은 이번 발표가 전략적 모호성을 유지하려는 의도로 보인다고 평가했다. "
    "정부는 또한 반도체 공급망 협력과 관련해 별도의 협의체를 구성하기로 했다."
)
CHINESE = (
    "韩国政府表示将在加强韩美同盟的同时维持与中国的经济合作。外交部官员解释说，将通过实用外交在两国之间保持平衡。"
    "专家们评价称，此次发表似乎意在维持战略模糊性。政府还决定就半导体供应链合作另设协商机构。"
)


def bench_texts(min_words: int = 120) -> list[str]:
    truth = json.loads((BENCH_DIR / "ground-truth.json").read_text(encoding="utf-8"))
    return [v["articleBody"] for v in truth.values() if len(v["articleBody"].split()) >= min_words]


def syndicate(text: str) -> str:
    paragraphs = [p for p in text.split("\n") if p.strip()]
    kept = paragraphs[:-1] if len(paragraphs) > 3 else paragraphs
    return "SEOUL, Dec. 3 (Wire) -- A partner agency first published this story.\n" + "\n".join(kept)


def test_signatures_are_stable_and_sized() -> None:
    sig = neardup.signature("The alliance was strengthened on Tuesday in Seoul.")
    assert sig.dtype == np.uint32 and sig.shape == (neardup.NUM_PERM,)
    assert np.array_equal(sig, neardup.signature("The alliance was strengthened on Tuesday in Seoul."))
    assert np.array_equal(neardup.from_bytes(neardup.to_bytes(sig)), sig)
    assert len(neardup.bands(sig)) == neardup.BANDS
    assert all(0 <= bucket < 2**63 for _, bucket in neardup.bands(sig))


def test_empty_text_matches_nothing() -> None:
    empty = neardup.signature("")
    assert neardup.resemblance(empty, neardup.signature("")) == 0.0


def test_syndicated_copies_of_real_articles_pass_the_threshold() -> None:
    texts = bench_texts()[:60]
    scores = [neardup.resemblance(neardup.signature(t), neardup.signature(syndicate(t))) for t in texts]
    assert min(scores) >= 0.5, sorted(scores)[:5]


def test_different_real_articles_stay_far_below_the_threshold() -> None:
    sigs = [neardup.signature(t) for t in bench_texts()[:80]]
    worst = max(neardup.resemblance(a, b) for a, b in itertools.combinations(sigs, 2))
    assert worst < 0.3


def test_copies_share_a_band_so_the_warehouse_finds_them() -> None:
    for text in bench_texts()[:40]:
        a, b = neardup.signature(text), neardup.signature(syndicate(text))
        assert set(neardup.bands(a)) & set(neardup.bands(b))


def test_cjk_text_uses_character_grams() -> None:
    assert all(" " not in g for g in neardup.shingles(CHINESE))
    for text in (KOREAN, CHINESE):
        copy = text + " (연합뉴스)" if text is KOREAN else "（新华社）" + text
        assert neardup.resemblance(neardup.signature(text), neardup.signature(copy)) >= 0.5
    assert neardup.resemblance(neardup.signature(KOREAN), neardup.signature(CHINESE)) < 0.1
