#!/usr/bin/python3
"""make_crashers.py: writes the hostile PNGs of tests/crashers/.

Each file is named <expected>-<what>.png, where <expected> is the ks_rc that
ks_png_decode() must return under the default limits: "invalid" (KS_INVALID),
"toolarge" (KS_TOOLARGE) or "ok" (KS_OK: hostile parts that libpng must skip
cheaply). tests/unit/test_png_codec.c decodes every file in this folder,
checks that code and that the decode was quick, so a new crasher is one more
file here (made by this script, or dropped in by hand with the same naming).

The output is deterministic: running the script again rewrites the same bytes.
Standard library only:  /usr/bin/python3 tests/crashers/make_crashers.py
"""
import os
import random
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind, data, crc=None):
    if crc is None:
        crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc & 0xFFFFFFFF)


def ihdr(width, height, bit_depth=8, color_type=6, interlace=0):
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type,
                                      0, 0, interlace))


def rgba_noise(width, height, seed):
    """Filter-0 rows of random RGBA8 pixels (incompressible, so IDAT is long)."""
    rng = random.Random(seed)
    return b"".join(b"\0" + bytes(rng.randrange(256) for _ in range(width * 4))
                    for _ in range(height))


def small_png(seed=1, extra=b""):
    return (SIGNATURE + ihdr(32, 32) + extra
            + chunk(b"IDAT", zlib.compress(rgba_noise(32, 32, seed), 9)) + chunk(b"IEND", b""))


def crashers():
    idat_at = len(SIGNATURE) + 25          # the IDAT chunk of small_png()
    good = small_png()
    idat_len = struct.unpack(">I", good[idat_at:idat_at + 4])[0]
    idat_crc_at = idat_at + 8 + idat_len

    yield "invalid-empty.png", b""
    yield "invalid-not-a-png.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;" + b"\0" * 32
    yield "invalid-signature-only.png", SIGNATURE
    yield "invalid-no-ihdr.png", SIGNATURE + chunk(b"IEND", b"")
    yield "invalid-zero-width.png", SIGNATURE + ihdr(0, 16) + chunk(b"IEND", b"")
    yield "invalid-bad-bit-depth.png", SIGNATURE + ihdr(16, 16, bit_depth=3) + chunk(b"IEND", b"")
    # The file ends in the middle of the IDAT data.
    yield "invalid-truncated-idat.png", good[:idat_at + 8 + idat_len // 2]
    # A whole IDAT chunk with a valid CRC, holding half a zlib stream.
    half = zlib.compress(rgba_noise(32, 32, 1), 9)[:2000]
    yield "invalid-truncated-zlib.png", (SIGNATURE + ihdr(32, 32) + chunk(b"IDAT", half)
                                         + chunk(b"IEND", b""))
    crc = struct.unpack(">I", good[idat_crc_at:idat_crc_at + 4])[0]
    yield "invalid-bad-crc-idat.png", (good[:idat_crc_at] + struct.pack(">I", crc ^ 1)
                                       + good[idat_crc_at + 4:])
    yield "invalid-bad-crc-ihdr.png", (SIGNATURE + chunk(b"IHDR", good[16:29], crc=0x12345678)
                                       + good[33:])
    # Claims 100000x100000 RGBA (40 GB decoded) with a few bytes of data.
    yield "toolarge-ihdr-100000x100000.png", (SIGNATURE + ihdr(100000, 100000)
                                              + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                                              + chunk(b"IEND", b""))
    # Decompression bomb: a zero-filled 10000x10000 1-bit grey image is 12 KB
    # of zlib and 400 MB as RGBA8.
    rows = (b"\0" * (1 + 10000 // 8)) * 10000
    yield "toolarge-bomb-10000x10000.png", (SIGNATURE + ihdr(10000, 10000, 1, 0)
                                            + chunk(b"IDAT", zlib.compress(rows, 9))
                                            + chunk(b"IEND", b""))
    # 300 tEXt chunks before the image data, over the 256 ancillary chunk limit.
    texts = b"".join(chunk(b"tEXt", b"k\0%d" % i) for i in range(300))
    yield "toolarge-many-text.png", small_png(extra=texts)
    # Compressed metadata that inflates to 5 MB: libpng stops at the chunk
    # limit and drops the chunk; the image itself decodes.
    zeros = zlib.compress(b"\0" * (5 << 20), 9)
    yield "ok-ztxt-bomb.png", small_png(extra=chunk(b"zTXt", b"k\0\0" + zeros))
    yield "ok-iccp-bomb.png", small_png(extra=chunk(b"iCCP", b"p\0\0" + zeros))
    # A tEXt chunk whose length claims 2 GB.
    yield "toolarge-chunk-length-2g.png", (SIGNATURE + good[8:33]
                                           + struct.pack(">I", 0x7FFFFFFF) + b"tEXt" + b"k\0v")


def main():
    for name, data in crashers():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        print("%-36s %7d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
