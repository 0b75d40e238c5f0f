#!/usr/bin/python3
"""check_avatar.py OUT_DIR: compares the avatar ks-scenario downloaded with
the same full-canvas layers composited by Pillow (the independent oracle).

OUT_DIR/layers.txt lists `z item layer file` lines; layers are drawn by
(z, item, layer), as the API orders them. The images are compared
premultiplied, at most 2 levels apart per channel.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from PIL import Image  # noqa: E402

TOLERANCE = 2



def main(out_dir):
    with open(os.path.join(out_dir, "layers.txt")) as f:
        rows = [line.split() for line in f if line.strip()]
    rows.sort(key=lambda r: (int(r[0]), int(r[1]), int(r[2])))
    layers = [Image.open(os.path.join(out_dir, r[3])).convert("RGBA") for r in rows]
    expected = Image.new("RGBA", layers[0].size, (0, 0, 0, 0))
    for layer in layers:
        expected = Image.alpha_composite(expected, layer)
    actual = Image.open(os.path.join(out_dir, "avatar.png")).convert("RGBA")
    if actual.size != expected.size:
        print(f"FAIL  avatar is {actual.size}, expected {expected.size}")
        return 1
    worst = 0
    for (r1, g1, b1, a1), (r2, g2, b2, a2) in zip(actual.getdata(), expected.getdata()):
        p1 = ((r1 * a1 + 127) // 255, (g1 * a1 + 127) // 255, (b1 * a1 + 127) // 255, a1)
        p2 = ((r2 * a2 + 127) // 255, (g2 * a2 + 127) // 255, (b2 * a2 + 127) // 255, a2)
        worst = max(worst, max(abs(x - y) for x, y in zip(p1, p2)))
    ok = worst <= TOLERANCE
    print(f"{'ok  ' if ok else 'FAIL'}  avatar matches Pillow's alpha_composite of {len(layers)} "
          f"layers: max difference {worst} (tolerance {TOLERANCE})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
