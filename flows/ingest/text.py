"""Text helpers shared by feeds and extraction: byte decoding, URL canonicalisation, hashes.

Decoding (``decode_bytes``) tries declared encodings in the caller's precedence order after a
byte-order mark, maps legacy labels to their WHATWG superset decoders (gb2312/gbk -> gb18030,
euc-kr -> cp949, big5 -> big5hkscs, shift_jis -> cp932, latin-1/ascii -> cp1252), and falls
back to detection (valid UTF-8 first, then charset-normalizer), then UTF-8 with replacement.

``canonical_url``: scheme and host lower-cased, host IDNA-encoded (punycode) without a trailing
dot, default ports dropped, fragment dropped, ``;jsessionid=`` path parameters dropped, dot
segments removed, percent-encoding normalised (unreserved characters decoded, other escapes
upper-cased, unsafe characters escaped as UTF-8), empty path -> "/", tracking query parameters
removed (every ``utm_*`` plus ``TRACKING_PARAMS``, names compared case-insensitively), remaining
parameters sorted, empty query -> no "?". http/https and www./bare hosts are NOT unified.

``simhash`` is a 64-bit fingerprint over word 3-shingles, or character 4-grams when Han/kana
(scripts written without spaces) dominate; shingles are hashed with blake2b, so the value is
stable across processes and fits DuckDB's UBIGINT.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

# ---------------------------------------------------------------------------- encodings

# fmt: off
_SUPERSET_LABELS = {
    "gb18030": ("gb2312", "gbk", "x-gbk", "gb_2312-80", "csgb2312", "chinese", "iso-ir-58",
                "cp936"),
    "cp949": ("euc-kr", "euc_kr", "ks_c_5601-1987", "ks_c_5601-1989", "ksc5601", "ksc_5601",
              "korean", "iso-ir-149", "windows-949", "cseuckr", "csksc56011987"),
    "big5hkscs": ("big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5", "cp950"),
    "cp932": ("shift_jis", "shift-jis", "sjis", "ms_kanji", "csshiftjis", "windows-31j",
              "x-sjis", "ms932"),
    "cp1252": ("iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii",
               "windows-1252", "x-user-defined"),
    "utf-8": ("utf8", "unicode-1-1-utf-8"),
}
# fmt: on
_SUPERSETS = {label: name for name, labels in _SUPERSET_LABELS.items() for label in labels}
_WESTERN = {"cp1252"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DETECT_SAMPLE = 64 * 1024
_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_DECL_RE = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)""")
_TOLERATED_ERRORS = 0.002  # a declared encoding is kept when <= 0.2% of bytes are undecodable


@dataclass(frozen=True)
class Decoded:
    """Text decoded from bytes, the Python codec used and how many characters were replaced."""

    text: str
    encoding: str
    replaced: int


def encoding_label(label: str | bytes | None) -> str | None:
    """Map a charset label to the Python codec that decodes it (WHATWG supersets); None if unknown."""
    if label is None:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    key = label.strip().strip("\"'").lower()
    if not key:
        return None
    if key in _SUPERSETS:
        return _SUPERSETS[key]
    try:
        name = codecs.lookup(key).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def bom_encoding(body: bytes) -> str | None:
    """Encoding named by a byte-order mark at the start of ``body``, if any."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    return None


def decode_bytes(body: bytes, declared: Sequence[str | bytes | None]) -> Decoded:
    """Decode ``body``: BOM, then ``declared`` labels in order, then detection, then UTF-8."""
    bom = bom_encoding(body)
    if bom is not None:
        return _decode(body[len(codecs.BOM_UTF8) if bom == "utf-8" else 0 :], bom)
    labels = [name for name in (encoding_label(x) for x in declared) if name]
    labels = [_no_bom_utf16(name, body) for name in dict.fromkeys(labels)]
    for i, name in enumerate(labels):
        if name in _WESTERN and _later_utf8(labels[i + 1 :], body):
            return _decode(body, "utf-8")
        result = _try_decode(body, name)
        if result is not None:
            return result
    return detect_and_decode(body)


def detect_and_decode(body: bytes) -> Decoded:
    """Decode undeclared bytes: UTF-16 sniffing, valid UTF-8, charset-normalizer, UTF-8 lossy."""
    if body[:4] in (b"<\x00?\x00", b"<\x00!\x00") or body[:2] == b"<\x00":
        return _decode(body, "utf-16-le")
    if body[:4] in (b"\x00<\x00?", b"\x00<\x00!") or body[:2] == b"\x00<":
        return _decode(body, "utf-16-be")
    try:
        return Decoded(body.decode("utf-8"), "utf-8", 0)
    except UnicodeDecodeError:
        pass
    guess = _charset_guess(body[:_DETECT_SAMPLE])
    if guess is not None and guess != "utf-8":
        return _decode(body, guess)
    return _decode(body, "utf-8")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup in a plain mapping of response headers."""
    name = name.lower()
    return next((v for k, v in headers.items() if k.lower() == name), None)


def header_charset(headers: Mapping[str, str]) -> str | None:
    """The charset parameter of the Content-Type header, if any."""
    match = _CHARSET_RE.search(header(headers, "content-type") or "")
    return match.group(1) if match else None


def xml_declared_charset(body: bytes) -> str | None:
    """The encoding named in an XML declaration at the start of ``body``, if any."""
    match = _XML_DECL_RE.match(body[:1024])
    return match.group(1).decode("ascii") if match else None


def _charset_guess(sample: bytes) -> str | None:
    """Best charset-normalizer guess for ``sample``, mapped to a superset decoder."""
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    return None if best is None else encoding_label(best.encoding)


def _no_bom_utf16(name: str, body: bytes) -> str:
    """Resolve a bare utf-16 label without BOM to an explicit byte order (default LE)."""
    if name not in ("utf-16", "utf_16"):
        return name
    return "utf-16-be" if body[:1] == b"\x00" else "utf-16-le"


def _later_utf8(labels: Iterable[str], body: bytes) -> bool:
    """True when a later declaration says UTF-8 and the body is valid, non-ASCII UTF-8."""
    if "utf-8" not in labels or body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _try_decode(body: bytes, name: str) -> Decoded | None:
    """Decode with ``name``; None if it is unknown or too many bytes do not decode."""
    try:
        return Decoded(body.decode(name), name, 0)
    except UnicodeDecodeError:
        result = _decode(body, name)
        return result if result.replaced <= max(4, len(body) * _TOLERATED_ERRORS) else None
    except LookupError:
        return None


def _decode(body: bytes, name: str) -> Decoded:
    """Decode with replacement, counting replaced characters."""
    text = body.decode(name, "replace")
    return Decoded(text, codecs.lookup(name).name, text.count("\ufffd"))


# ---------------------------------------------------------------------------- URLs

# fmt: off
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
    "mc_cid", "mc_eid", "igshid", "ref", "ref_src", "ref_url", "cmpid", "ocid", "ncid",
    "_ga", "_gl", "mkt_tok", "li_fat_id", "smid", "smtyp", "itid", "xtor",
    "at_medium", "at_campaign", "wt.mc_id", "sr_share", "__twitter_impression",
})
# fmt: on
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT_RE = re.compile(r"%([0-9A-Fa-f]{2})")
_STRAY_PCT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PATH_SAFE = "/:@!$&'()*+,;=%"
_QUERY_SAFE = "/:@!$'()*+,;=?%"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SESSION_RE = re.compile(r";jsessionid=[^/;]*", re.IGNORECASE)


def canonical_url(url: str) -> str:
    """Canonical form of ``url`` used as the article key (see module docstring for the rules)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    netloc = _canonical_netloc(parts.netloc, scheme)
    path = _remove_dot_segments(_normalise_pct(_SESSION_RE.sub("", parts.path), _PATH_SAFE)) or "/"
    pairs = [_normalise_pct(p, _QUERY_SAFE) for p in parts.query.split("&") if p]
    kept = sorted(p for p in pairs if not _is_tracking(p.split("=", 1)[0]))
    return urlunsplit((scheme, netloc, path, "&".join(kept), ""))


def _is_tracking(key: str) -> bool:
    """True for tracking query parameter names."""
    name = _PCT_RE.sub(lambda m: chr(int(m.group(1), 16)), key).lower()
    return name.startswith("utm_") or name in TRACKING_PARAMS


def _canonical_netloc(netloc: str, scheme: str) -> str:
    """Lower-case + IDNA host, default port dropped, userinfo kept."""
    userinfo, _, hostport = netloc.rpartition("@")
    host, port = hostport, ""
    if hostport.startswith("["):
        end = hostport.find("]")
        host, port = hostport[: end + 1], hostport[end + 2 :] if end >= 0 else ""
    elif ":" in hostport:
        host, _, port = hostport.rpartition(":")
    host = _idna(host.lower().rstrip("."))
    if port == "" or (port.isdigit() and int(port) == _DEFAULT_PORTS.get(scheme)):
        port = ""
    hostport = f"{host}:{int(port)}" if port.isdigit() else (f"{host}:{port}" if port else host)
    return f"{userinfo}@{hostport}" if userinfo else hostport


def _idna(host: str) -> str:
    """Punycode the non-ASCII labels of ``host``; unencodable labels are kept as they are."""
    labels = []
    for label in host.split("."):
        if label.isascii():
            labels.append(label)
            continue
        try:
            labels.append(label.encode("idna").decode("ascii"))
        except UnicodeError:
            labels.append(label)
    return ".".join(labels)


def _normalise_pct(text: str, safe: str) -> str:
    """Decode escaped unreserved characters, upper-case other escapes, escape the unsafe rest."""
    text = _STRAY_PCT_RE.sub("%25", text)

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return quote(_PCT_RE.sub(fix, text), safe=safe)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4 dot-segment removal."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    result = "/".join(out)
    return result if not path.startswith("/") or result.startswith("/") else "/" + result


# ---------------------------------------------------------------------------- hashes

_WS_RE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """NFKC-normalise ``text`` and collapse every whitespace run to one space."""
    return _WS_RE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def text_hash(text: str) -> str:
    """SHA-256 hex digest of the NFKC/whitespace-normalised text (exact-duplicate key)."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()
