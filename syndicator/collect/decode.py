"""Content-Encoding decoding with a hard cap, applied while the bytes arrive.

aiohttp runs with ``auto_decompress=False`` so that no library inflates a body
we have not bounded: a 10 kB gzip bomb that expands to gigabytes, or a body
gzipped several times over, is cut off as soon as the decoded size passes the
cap, and no decoder ever produces more than the cap plus one chunk.
"""

from __future__ import annotations

import zlib

SUPPORTED = ("gzip", "x-gzip", "deflate", "identity")


class TooLarge(Exception):
    """The decoded body passed the cap."""


class UnsupportedEncoding(Exception):
    """A Content-Encoding we did not offer and cannot decode."""


class _Stage:
    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._first = True
        self._obj: zlib._Decompress = zlib.decompressobj(
            16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        )

    def feed(self, data: bytes, limit: int) -> bytes:
        if self.encoding == "deflate" and self._first and data:
            self._first = False
            if data[0] & 0x0F != 8:  # raw deflate without a zlib header (old IIS)
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        out = bytearray()
        try:
            chunk = self._obj.decompress(data, limit + 1)
            out += chunk
            while self._obj.unconsumed_tail and len(out) <= limit:
                out += self._obj.decompress(self._obj.unconsumed_tail, limit + 1 - len(out))
        except zlib.error as exc:
            raise UnsupportedEncoding(f"corrupt {self.encoding} data: {exc}") from exc
        if len(out) > limit:
            raise TooLarge
        return bytes(out)

    def flush(self, limit: int) -> bytes:
        try:
            out = self._obj.flush(limit + 1)
        except zlib.error as exc:
            raise UnsupportedEncoding(f"corrupt {self.encoding} data: {exc}") from exc
        if len(out) > limit:
            raise TooLarge
        return out


class BoundedDecoder:
    """Decode a (possibly stacked) Content-Encoding, raising TooLarge past ``limit`` bytes."""

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        names = [e.strip().lower() for e in (content_encoding or "").split(",") if e.strip()]
        for name in names:
            if name not in SUPPORTED:
                raise UnsupportedEncoding(f"unsupported Content-Encoding {name!r}")
        # Encodings are listed in the order applied; decode in reverse.
        self._stages = [_Stage(n) for n in reversed(names) if n != "identity"]
        self._limit = limit
        self._total = 0

    def feed(self, data: bytes) -> bytes:
        for stage in self._stages:
            data = stage.feed(data, self._limit - self._total)
        return self._count(data)

    def flush(self) -> bytes:
        """End of body: flush each stage and push what it releases through the later ones."""
        out = bytearray()
        for index, stage in enumerate(self._stages):
            data = stage.flush(self._limit - self._total)
            for later in self._stages[index + 1 :]:
                data = later.feed(data, self._limit - self._total)
            out += self._count(data)
        return bytes(out)

    def _count(self, data: bytes) -> bytes:
        self._total += len(data)
        if self._total > self._limit:
            raise TooLarge
        return data
