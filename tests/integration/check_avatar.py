#!/usr/bin/python3
"""check_avatar.py OUT_DIR: compares the avatar ks-scenario downloaded with
the same full-canvas layers composited by Pillow (oracle.py, the independent oracle).

OUT_DIR/layers.txt lists `z item layer file` lines; layers are drawn by
(z, item, layer), as the API orders them. The images are compared
premultiplied, at most 2 levels apart per channel.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from PIL import Image  # noqa: E402

import oracle  # noqa: E402


def main(out_dir):
    with open(os.path.join(out_dir, "layers.txt")) as f:
        rows = [line.split() for line in f if line.strip()]
    rows.sort(key=lambda r: (int(r[0]), int(r[1]), int(r[2])))
    layers = [(os.path.join(out_dir, r[3]), i) for i, r in enumerate(rows)]
    canvas = Image.open(layers[0][0]).size
    diff = oracle.compare(oracle.compose(layers, canvas), os.path.join(out_dir, "avatar.png"))
    ok = diff.max_diff <= oracle.TOLERANCE
    print(f"{'ok  ' if ok else 'FAIL'}  avatar matches Pillow's alpha_composite of {len(layers)} "
          f"layers: {oracle.describe(diff)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
