"""Bounded removal of HTTP content-codings (gzip, deflate incl. raw deflate, brotli).

Every decoder step materialises at most ``PIECE`` bytes, so a compression bomb never holds
more than one small piece in memory; the caller counts the pieces against its size cap.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import brotli

PIECE = 64 * 1024  # most bytes a decoder materialises per step


class DecodingError(ValueError):
    """The body uses a content-coding we cannot decode."""


class _ZlibDecoder:
    """gzip (multi-member), zlib-wrapped or raw deflate, never more than PIECE per step."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._obj: zlib._Decompress | None = None
        self._head = b""

    def _start(self, data: bytes) -> bytes:
        """Create the decompressor once the first two bytes tell zlib from raw deflate."""
        if self._gzip:
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
            return data
        self._head += data
        if len(self._head) < 2:
            return b""
        zlib_header = self._head[0] & 0x0F == 8 and int.from_bytes(self._head[:2]) % 31 == 0
        self._obj = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        data, self._head = self._head, b""
        return data

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decompress ``data`` lazily, yielding pieces of at most PIECE bytes."""
        if self._obj is None:
            data = self._start(data)
        while self._obj is not None:
            out = self._obj.decompress(data, PIECE)
            data = self._obj.unconsumed_tail
            if out:
                yield out
            rest = self._obj.unused_data if self._obj.eof and self._gzip else b""
            if rest and b"\x1f\x8b".startswith(rest[:2]):
                data = rest  # the next gzip member
                self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif not data and len(out) < PIECE:
                return  # input used up (trailing garbage after a member is ignored)

    def finish(self) -> Iterator[bytes]:
        """Flush what is left at the end of the body."""
        if self._obj is None and self._head:
            raise zlib.error("deflate stream shorter than its header")
        if self._obj is not None:
            yield from self.feed(b"")
            yield self._obj.flush()


class _BrotliDecoder:
    """Brotli with an output limit per step (brotli >= 1.2 ``output_buffer_limit``)."""

    def __init__(self) -> None:
        self._obj = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decompress ``data`` lazily, yielding bounded pieces."""
        yield self._obj.process(data, output_buffer_limit=PIECE)
        while not self._obj.can_accept_more_data():
            yield self._obj.process(b"", output_buffer_limit=PIECE)

    def finish(self) -> Iterator[bytes]:
        """Brotli needs no flush; a truncated stream is tolerated like truncated gzip."""
        yield from ()


_Decoder = _ZlibDecoder | _BrotliDecoder


def _decoders(content_encoding: str) -> list[_Decoder]:
    """Decoders to apply, in order, for a Content-Encoding header value."""
    chain: list[_Decoder] = []
    for token in reversed([t.strip().lower() for t in content_encoding.split(",")]):
        if token in ("", "identity"):
            continue
        if token in ("gzip", "x-gzip", "deflate"):
            chain.append(_ZlibDecoder(token))
        elif token == "br":
            chain.append(_BrotliDecoder())
        else:
            raise DecodingError(f"unsupported content-encoding {token!r}")
    return chain


def decode_stream(content_encoding: str, pieces: Iterator[bytes]) -> Iterator[bytes]:
    """Decode raw body pieces lazily for ``content_encoding``; each output piece is bounded.

    Raises DecodingError for an unknown coding; zlib.error / brotli.error for corrupt data.
    """
    for decoder in _decoders(content_encoding):
        pieces = _stage(decoder, pieces)
    return pieces


def _stage(decoder: _Decoder, pieces: Iterator[bytes]) -> Iterator[bytes]:
    """One decoder stage over an iterator of pieces."""
    for piece in pieces:
        yield from decoder.feed(piece)
    yield from decoder.finish()
