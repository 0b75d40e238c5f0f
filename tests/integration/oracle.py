#!/usr/bin/python3
"""oracle.py: an independent reference for the avatar compositor.

The image servers compose avatars in C (premultiplied integer "source over").
This module composes the same full-canvas layers with Pillow's
Image.alpha_composite, bottom to top by z-order (ties keep their given order),
and compares two RGBA images premultiplied (c * a / 255, rounded), so that the
colour of (nearly) transparent pixels, which carries no information, does not
count. Two composites agree when no channel differs by more than TOLERANCE.

As a module:
    layers = catalog_layers("samples/items/out", ["body-light", "top-sailor"])
    expected = compose(layers)
    diff = compare(expected, Image.open(io.BytesIO(fetch_png(url))))
    assert diff.max_diff <= TOLERANCE, diff

As a command:
    oracle.py compose --catalog DIR [--wear KEY...] -o OUT.png
    oracle.py compose --layer FILE.png:Z ... -o OUT.png
    oracle.py compare A.png B.png [--tolerance N]
    oracle.py check --catalog DIR --wear KEY... --url AVATAR_URL [--tolerance N]
compare and check exit 0 when the images agree, 1 when they do not.
"""

import argparse
import io
import json
import os
import sys
from collections import namedtuple

from PIL import Image, ImageChops

TOLERANCE = 2                           # levels per premultiplied channel
DEFAULT_CANVAS = (240, 320)

# the premultiplied value of channel c at alpha a: round(c * a / 255); no ties
# exist because 255 is odd.
_PREMUL = bytes((c * a * 2 + 255) // 510 for a in range(256) for c in range(256))


def load_image(source):
    """An RGBA image from a path, PNG bytes or an Image."""
    if isinstance(source, Image.Image):
        image = source
    elif isinstance(source, (bytes, bytearray)):
        image = Image.open(io.BytesIO(source))
    else:
        image = Image.open(source)
    image.load()
    return image if image.mode == "RGBA" else image.convert("RGBA")


def catalog_layers(catalog_dir, keys=None):
    """The (path, zOrder) layers of the items keys (all items when None) in the
    catalog written by samples/items/generate.py, in the given key order."""
    with open(os.path.join(catalog_dir, "catalog.json")) as f:
        catalog = json.load(f)
    items = {item["key"]: item for item in catalog["items"]}
    if keys is None:
        keys = [item["key"] for item in catalog["items"]]
    layers = []
    for key in keys:
        if key not in items:
            raise KeyError("item %r is not in %s/catalog.json" % (key, catalog_dir))
        for layer in items[key]["layers"]:
            layers.append((os.path.join(catalog_dir, layer["file"]), int(layer["zOrder"])))
    return layers


def catalog_canvas(catalog_dir):
    with open(os.path.join(catalog_dir, "catalog.json")) as f:
        return tuple(json.load(f).get("canvas", DEFAULT_CANVAS))


def compose(layers, canvas=DEFAULT_CANVAS):
    """Composes full-canvas layers [(source, zOrder)] (source: path, PNG bytes
    or Image) on a transparent canvas, ascending z-order, stable for ties."""
    out = Image.new("RGBA", tuple(canvas), (0, 0, 0, 0))
    for source, _z in sorted(layers, key=lambda layer: layer[1]):
        image = load_image(source)
        if image.size != out.size:
            raise ValueError("layer %s is %dx%d, the canvas is %dx%d" % (
                source if isinstance(source, str) else "<image>",
                image.size[0], image.size[1], out.size[0], out.size[1]))
        out = Image.alpha_composite(out, image)
    return out


def tint(image, colour):
    """image (RGBA) recoloured as kisekae tints a layer: every colour channel
    multiplied by colour's ("#RRGGBB"), alpha kept. Pillow's own multiply
    on the straight channels: the same product before premultiplying."""
    image = load_image(image)
    rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    r, g, b, a = image.split()
    tinted = ImageChops.multiply(Image.merge("RGB", (r, g, b)), Image.new("RGB", image.size, rgb))
    return Image.merge("RGBA", (*tinted.split(), a))


def premultiplied(image):
    """The RGBA bytes of image with each colour channel multiplied by alpha."""
    data = load_image(image).tobytes()
    out = bytearray(data)
    table = _PREMUL
    for i in range(0, len(data), 4):
        base = data[i + 3] << 8
        out[i] = table[base | data[i]]
        out[i + 1] = table[base | data[i + 1]]
        out[i + 2] = table[base | data[i + 2]]
    return bytes(out)


Diff = namedtuple("Diff", "max_diff channel_max pixels_over first_over size_match")


def compare(expected, actual, tolerance=TOLERANCE):
    """Compares two RGBA images premultiplied. max_diff is the largest
    difference of any channel (alpha included); channel_max has it per
    R, G, B, A; pixels_over counts pixels beyond tolerance and first_over is
    the (x, y) of the first one. Images of different sizes never match."""
    a, b = load_image(expected), load_image(actual)
    if a.size != b.size:
        return Diff(255, (255, 255, 255, 255), a.width * a.height, (0, 0), False)
    pa = Image.frombytes("RGBA", a.size, premultiplied(a))
    pb = Image.frombytes("RGBA", b.size, premultiplied(b))
    diff = ImageChops.difference(pa, pb)
    channel_max = tuple(high for _low, high in diff.getextrema())
    over = diff.point(lambda v: 255 if v > tolerance else 0)
    bands = over.split()
    mask = bands[0]
    for band in bands[1:]:
        mask = ImageChops.lighter(mask, band)
    count = mask.histogram()[255]
    first = None
    if count:
        x0, y0, x1, _y1 = mask.getbbox()
        for x in range(x0, x1):                 # first over-tolerance pixel of row y0
            if mask.getpixel((x, y0)):
                first = (x, y0)
                break
    return Diff(max(channel_max), channel_max, count, first, True)


def describe(diff, tolerance=TOLERANCE):
    if not diff.size_match:
        return "sizes differ"
    text = "max premultiplied difference %d (R,G,B,A %s), tolerance %d" % (
        diff.max_diff, diff.channel_max, tolerance)
    if diff.pixels_over:
        text += "; %d pixels over, first at %s" % (diff.pixels_over, diff.first_over)
    return text


def fetch_png(url, session=None, timeout=15):
    """The body of GET url, which must be a 200 PNG. Raises RuntimeError
    naming the URL and what came back otherwise."""
    import requests
    getter = session or requests
    response = getter.get(url, timeout=timeout)
    if response.status_code != 200:
        raise RuntimeError("GET %s: HTTP %d %s" % (url, response.status_code,
                                                   response.text[:200].strip()))
    body = response.content
    if not body.startswith(b"\x89PNG\r\n\x1a\n"):
        raise RuntimeError("GET %s: not a PNG (Content-Type %s, %d bytes)" % (
            url, response.headers.get("Content-Type"), len(body)))
    return body


def _layer_arg(text):
    path, sep, z = text.rpartition(":")
    if not sep:
        raise argparse.ArgumentTypeError("expected FILE.png:Z, got %r" % text)
    return path, int(z)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Reference compositor and premultiplied image comparison.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("compose", help="compose layers into a PNG")
    p.add_argument("--catalog", help="directory with catalog.json and the layer PNGs")
    p.add_argument("--wear", nargs="*", help="item keys to wear (default: the demo outfit)")
    p.add_argument("--layer", action="append", type=_layer_arg, default=[],
                   help="a full-canvas layer FILE.png:ZORDER (repeatable)")
    p.add_argument("-o", "--output", required=True)
    p = sub.add_parser("compare", help="compare two PNGs premultiplied")
    p.add_argument("expected")
    p.add_argument("actual")
    p.add_argument("--tolerance", type=int, default=TOLERANCE)
    p = sub.add_parser("check", help="compose catalog items and compare with a URL's PNG")
    p.add_argument("--catalog", required=True)
    p.add_argument("--wear", nargs="+", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--tolerance", type=int, default=TOLERANCE)
    args = parser.parse_args(argv)

    if args.command == "compose":
        layers, canvas = list(args.layer), DEFAULT_CANVAS
        if args.catalog:
            canvas = catalog_canvas(args.catalog)
            wear = args.wear
            if not wear:
                with open(os.path.join(args.catalog, "catalog.json")) as f:
                    wear = json.load(f)["demo"]["wear"]
            layers += catalog_layers(args.catalog, wear)
        if not layers:
            parser.error("compose needs --catalog or --layer")
        compose(layers, canvas).save(args.output, "PNG")
        return 0
    if args.command == "compare":
        expected, actual = args.expected, args.actual
    else:
        expected = compose(catalog_layers(args.catalog, args.wear), catalog_canvas(args.catalog))
        actual = fetch_png(args.url)
    diff = compare(expected, actual, args.tolerance)
    print(describe(diff, args.tolerance))
    return 0 if diff.size_match and diff.max_diff <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
