"""Odd image files written byte by byte, for the tests of unreadable images."""
import struct
import zlib


def png_claiming(path, width: int = 100_000, height: int = 100_000):
    """A PNG whose header (IHDR) claims width x height 8-bit gray pixels, with a few bytes of data:
    OpenCV refuses it (its pixel limit), Pillow too (its decompression-bomb check)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
                     + chunk(b"IEND", b""))
    return path
