"""Encodings: CJK feeds and pages, label mapping to superset decoders, decode precedence."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pytest

from flows.ingest.extract import ExtractionError, decode_html
from flows.ingest.feeds import parse_feed
from flows.ingest.text import decode_bytes, encoding_label

DATA = Path(__file__).parent / "data" / "feeds"

# file, declared label, Python codec that wrote it, expected title (with superset-only characters)
CJK_FEEDS = [
    ("euc_kr.xml", "euc-kr", "cp949", "한미동맹과 똠방각하: 서울의 선택"),
    ("gb2312.xml", "gb2312", "gb18030", "朱镕基谈中美关系与韩国"),
    ("big5.xml", "big5", "big5hkscs", "韓國外交嘅抉擇：華盛頓定北京"),
    ("shift_jis.xml", "shift_jis", "cp932", "韓国外交の選択①髙橋氏の分析"),
]
_DECL_RE = re.compile(rb"^<\?xml[^>]*\?>\s*")


@pytest.mark.parametrize(("name", "label", "codec", "title"), CJK_FEEDS)
@pytest.mark.parametrize("declared", ["xml_declaration", "http_header", "both", "text_xml_no_charset"])
def test_cjk_feed_titles_decode_intact(name: str, label: str, codec: str, title: str, declared: str) -> None:
    body = (DATA / name).read_bytes()
    headers = {"content-type": "application/rss+xml"}
    if declared in ("http_header", "both"):
        headers = {"content-type": f"application/rss+xml; charset={label.upper()}"}
    if declared == "http_header":
        body = _DECL_RE.sub(b"", body)
    if declared == "text_xml_no_charset":
        headers = {"content-type": "text/xml"}  # RFC 3023 would say us-ascii; the declaration wins
    feed = parse_feed(body, headers, "https://cjk.example.com/feed")
    assert feed.error_class is None, feed.error_message
    assert feed.title == title
    assert [e.title for e in feed.entries] == [title]
    assert feed.warning is None


def test_gbk_label_in_header_and_feed_without_any_declaration() -> None:
    title = "镕基：中美之间的韩国"
    body = f'<rss version="2.0"><channel><item><title>{title}</title><link>https://e.cn/1</link></item></channel></rss>'
    feed = parse_feed(body.encode("gbk"), {"Content-Type": "text/xml; charset=GBK"}, "https://e.cn/feed")
    assert [e.title for e in feed.entries] == [title]


def test_utf16_feed_with_bom() -> None:
    body = (DATA / "utf16_bom.xml").read_bytes()
    assert body.startswith(codecs.BOM_UTF16_LE)
    feed = parse_feed(body, {"content-type": "application/atom+xml"}, "https://cjk.example.com/feed")
    assert feed.title == "한국과 中國"
    assert [e.title for e in feed.entries] == ["한국과 中國 사이"]


def test_utf16_big_endian_without_bom_declared_in_header() -> None:
    doc = '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel><item><title>한국</title><link>https://e.kr/1</link></item></channel></rss>'
    body = doc.encode("utf-16-be")
    feed = parse_feed(body, {"content-type": "application/xml; charset=utf-16"}, "https://e.kr/feed")
    assert [e.title for e in feed.entries] == ["한국"]


def test_feed_with_wrong_header_charset_but_valid_utf8_declared() -> None:
    doc = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><item><title>서울과 北京</title><link>https://e.kr/1</link></item></channel></rss>'
    feed = parse_feed(doc.encode(), {"content-type": "text/xml; charset=ISO-8859-1"}, "https://e.kr/feed")
    assert [e.title for e in feed.entries] == ["서울과 北京"]


# ---------------------------------------------------------------------------- label mapping


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("gb2312", "gb18030"),
        ("GBK", "gb18030"),
        ("euc-kr", "cp949"),
        ("ks_c_5601-1987", "cp949"),
        ("Big5", "big5hkscs"),
        ("shift_jis", "cp932"),
        ("x-sjis", "cp932"),
        ("iso-8859-1", "cp1252"),
        ("US-ASCII", "cp1252"),
        ('"utf-8"', "utf-8"),
        ("UTF8", "utf-8"),
        ("euc-jp", "euc_jp"),
        ("no-such-charset", None),
        ("", None),
    ],
)
def test_encoding_label_maps_to_superset(label: str, codec: str | None) -> None:
    assert encoding_label(label) == codec


# ---------------------------------------------------------------------------- decode_html precedence

PAGE = "<html><head>{meta}<title>t</title></head><body><p>{text}</p></body></html>"
KOREAN = "서울은 워싱턴과 베이징 사이에서 균형을 찾는다. 똠방각하 햏쏭."


def _page(meta: str, text: str = KOREAN) -> str:
    return PAGE.format(meta=meta, text=text)


def test_bom_beats_everything() -> None:
    body = codecs.BOM_UTF8 + _page('<meta charset="euc-kr">').encode()
    text, encoding = decode_html(body, {"content-type": "text/html; charset=iso-8859-1"})
    assert encoding == "utf-8" and KOREAN in text and not text.startswith("\ufeff")


def test_http_charset_beats_meta() -> None:
    body = _page('<meta charset="iso-8859-1">').encode("cp949")
    text, encoding = decode_html(body, {"content-type": "text/html; charset=euc-kr"})
    assert (encoding, KOREAN in text) == ("cp949", True)


def test_meta_charset_and_http_equiv() -> None:
    body = _page('<meta charset="EUC-KR">').encode("cp949")
    assert decode_html(body, {"content-type": "text/html"}) == (_page('<meta charset="EUC-KR">'), "cp949")
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    text = "韩国在中美之间寻求平衡，朱镕基说。"
    body = _page(meta, text).encode("gb18030")
    assert decode_html(body, {}) == (_page(meta, text), "gb18030")


def test_meta_charset_after_4kib_of_head_is_found() -> None:
    meta = "<script>" + "var a = 1;\n" * 700 + '</script><meta charset="big5">'
    text = "首爾在美中之間尋求平衡，嘅。"
    body = _page(meta, text).encode("big5hkscs")
    assert decode_html(body, {"content-type": "text/html"}) == (_page(meta, text), "big5hkscs")


def test_xml_declaration_used_for_xhtml() -> None:
    page = '<?xml version="1.0" encoding="Shift_JIS"?>' + _page("", "韓国外交の選択①髙橋氏")
    assert decode_html(page.encode("cp932"), {}) == (page, "cp932")


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("서울은 워싱턴과 베이징 사이에서 균형을 찾는다. 정부는 동맹을 강조했다. " * 8, "cp949"),
        ("韩国政府表示，将在中美之间保持平衡，同时加强与美国的同盟关系。" * 8, "gb18030"),
        ("韓国政府は米国との同盟を強化しつつ中国との関係も維持すると述べた。" * 8, "cp932"),
    ],
)
def test_detection_without_any_declaration(text: str, codec: str) -> None:
    body = _page("", text).encode(codec)
    decoded, encoding = decode_html(body, {"content-type": "text/html"})
    assert text in decoded, encoding


def test_undeclared_valid_utf8_is_utf8() -> None:
    body = _page("", KOREAN).encode()
    assert decode_html(body, {"content-type": "text/html"}) == (_page("", KOREAN), "utf-8")


def test_wrong_declaration_falls_back_when_bytes_do_not_fit() -> None:
    body = _page('<meta charset="utf-8">').encode("cp949")  # declared utf-8, really cp949
    text, encoding = decode_html(body, {"content-type": "text/html"})
    assert KOREAN in text and encoding == "cp949"


def test_a_few_bad_bytes_keep_the_declared_encoding() -> None:
    good = _page('<meta charset="utf-8">', KOREAN * 20).encode()
    body = good[:400] + b"\xff" + good[400:]
    text, encoding = decode_html(body, {"content-type": "text/html"})
    assert encoding == "utf-8" and text.count("\ufffd") == 1


def test_garbage_is_a_decoding_error() -> None:
    with pytest.raises(ExtractionError) as info:
        decode_html(bytes(range(256)) * 40, {"content-type": "text/html"})
    assert info.value.error_class == "decoding"


def test_decode_bytes_utf16_declared_without_bom() -> None:
    body = "<p>한국</p>".encode("utf-16-le")
    assert decode_bytes(body, ["utf-16"]).text == "<p>한국</p>"
