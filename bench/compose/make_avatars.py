#!/usr/bin/python3
"""make_avatars.py: draws the 10-layer avatars bench/compose composites.

    bench/compose/make_avatars.py OUTDIR

Writes OUTDIR/240x320/layer-00.png .. layer-09.png and the same avatar at
480x640 in OUTDIR/480x640/, bottom layer first: full-canvas RGBA PNGs, as an
admin uploads them (bench-compose trims them the way the API server does).

The art is the sample catalog's (samples/items/generate.py, drawn with Pillow,
deterministic): an avatar wearing ten layers, the way a dressed-up member
does: back hair, body (with the face), shoes, jeans under a skirt, a T-shirt
under a sailor blouse, front hair, a ribbon and tinted glasses. So the layers
have the sizes of real ones (a full body, a top, small accessories) and the
anti-aliased edges and semi-transparent pixels that make compositing work.

480x640 draws the same figure with every coordinate doubled: the catalog
draws in 240x320 canvas coordinates at SCALE times the size and reduces at
the end, so raising SCALE and reducing to twice the canvas is the same art
at twice the resolution. OUTDIR/<size>/.stamp records what drew it, so a
second run with the same scripts and Pillow reuses the files.
"""

import hashlib
import importlib.util
import os
import sys

import PIL
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATE = os.path.join(HERE, "..", "..", "samples", "items", "generate.py")
SIZES = (1, 2)                          # canvas multiples: 240x320 and 480x640


def load_generator():
    spec = importlib.util.spec_from_file_location("ks_sample_items", GENERATE)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


def draw_layers(gen, multiple):
    """The ten layers, bottom first, at canvas * multiple."""
    base_scale = gen.SCALE
    size = (gen.CANVAS_W * multiple, gen.CANVAS_H * multiple)
    gen.SCALE = base_scale * multiple
    gen.Layer.final = lambda layer: layer.image.resize(size, Image.LANCZOS)
    try:
        hair_back, hair_front = gen.draw_hair_twintails((246, 150, 182), (110, 190, 240))
        layers = [
            hair_back,
            gen.draw_body((255, 226, 204), (176, 112, 92), (92, 62, 48), (240, 240, 248)),
            gen.draw_sneakers((226, 64, 72), (250, 250, 250)),
            gen.draw_jeans((70, 110, 180)),
            gen.draw_skirt((52, 66, 128), (220, 60, 70)),
            gen.draw_tshirt((232, 82, 94), (255, 240, 244)),
            gen.draw_sailor((250, 250, 252), (42, 56, 110), (220, 40, 60)),
            hair_front,
            gen.draw_ribbon((236, 54, 88)),
            gen.draw_glasses((70, 50, 60), (150, 210, 255, 80)),
        ]
    finally:
        gen.SCALE = base_scale
    for image in layers:
        assert image.size == size and image.mode == "RGBA"
    return layers


def stamp():
    h = hashlib.sha256()
    for path in (GENERATE, os.path.abspath(__file__)):
        with open(path, "rb") as f:
            h.update(f.read())
    h.update(PIL.__version__.encode())
    return h.hexdigest()


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr if len(argv) != 2 else sys.stdout)
        return 0 if len(argv) == 2 else 2
    gen = load_generator()
    want = stamp()
    for multiple in SIZES:
        label = "%dx%d" % (gen.CANVAS_W * multiple, gen.CANVAS_H * multiple)
        outdir = os.path.join(argv[1], label)
        stamp_path = os.path.join(outdir, ".stamp")
        try:
            with open(stamp_path) as f:
                if f.read().strip() == want:
                    print("%s: up to date" % outdir, file=sys.stderr)
                    continue
        except OSError:
            pass
        os.makedirs(outdir, exist_ok=True)
        for n, image in enumerate(draw_layers(gen, multiple)):
            path = os.path.join(outdir, "layer-%02d.png" % n)
            image.save(path + ".tmp", "PNG")
            os.replace(path + ".tmp", path)
        with open(stamp_path, "w") as f:
            f.write(want + "\n")
        print("%s: drew 10 layers" % outdir, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
