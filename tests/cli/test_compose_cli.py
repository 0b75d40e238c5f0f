"""kisekae-compose driven from outside, against Pillow as the oracle.

Random stacks of layers in every PNG colour type (RGBA, grey+alpha, palette
with tRNS, grey, RGB, 16-bit grey, interlaced), at random offsets that clip
at every edge, are composed by kisekae-compose and by Pillow's
alpha_composite; the results must agree within 2 levels per premultiplied
channel. Thumbnails are compared with Pillow's LANCZOS resize of the same
region (box=) of the composite, premultiplied, within THUMB_TOLERANCE; JPEG
output with Pillow flattening the composite onto the same colour and
encoding it with the same quality, both decoded, within JPEG_TOLERANCE.
Bad input must fail with a message and without an output file.

ctest runs it with KISEKAE_COMPOSE pointing at the built binary.
"""
import os
import random
import subprocess
import sys
import time

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import oracle  # noqa: E402
from timescale import scaled  # noqa: E402

COMPOSE = os.environ.get("KISEKAE_COMPOSE", os.path.join(HERE, "..", "..", "build",
                                                          "kisekae-compose"))
CRASHERS = os.path.join(HERE, "..", "crashers")


def run(*args):
    return subprocess.run([COMPOSE, *map(str, args)], capture_output=True, text=True, timeout=30)


def random_layer(rng, size):
    """An RGBA image with soft-edged, semi-transparent shapes."""
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(1, 4)):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        x1, y1 = x0 + rng.randint(2, size[0]), y0 + rng.randint(2, size[1])
        colour = tuple(rng.randrange(256) for _ in range(3)) + (rng.choice([40, 128, 200, 255]),)
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    return img


def save_as(img, path, mode, interlace=False):
    """Saves img in one PNG colour type; returns the RGBA image the file holds."""
    if mode == "RGBA":
        out = img
    elif mode == "LA":
        out = img.convert("LA")
    elif mode == "P":
        out = img.convert("RGBA").quantize(colors=64, method=Image.Quantize.FASTOCTREE)
    elif mode == "L":
        out = img.convert("L")
    elif mode == "RGB":
        out = img.convert("RGB")
    elif mode == "I;16":
        out = img.convert("L").point(lambda v: v * 257, "I").convert("I;16")
    kwargs = {"optimize": False}
    if interlace:
        kwargs["interlace"] = 1
    out.save(path, **kwargs)          # a quantized RGBA palette is written with tRNS
    held = Image.open(path)
    if held.mode == "I":              # 16-bit grey: Pillow's convert() would clamp, not scale
        held = held.point(lambda v: v / 257).convert("L")
    return held.convert("RGBA")


MODES = ["RGBA", "LA", "P", "L", "RGB", "I;16"]


@pytest.mark.parametrize("seed", range(8))
def test_random_stacks_match_pillow(tmp_path, seed):
    rng = random.Random(seed)
    canvas = (rng.randint(20, 120), rng.randint(20, 120))
    expected = Image.new("RGBA", canvas, (0, 0, 0, 0))
    args = []
    for i in range(rng.randint(1, 6)):
        size = (rng.randint(1, canvas[0] + 20), rng.randint(1, canvas[1] + 20))
        mode = MODES[(seed + i) % len(MODES)]
        path = tmp_path / ("layer%d.png" % i)
        img = save_as(random_layer(rng, size), path, mode, interlace=rng.random() < 0.3)
        x, y = rng.randint(-size[0] + 1, canvas[0] - 1), rng.randint(-size[1] + 1, canvas[1] - 1)
        placed = Image.new("RGBA", canvas, (0, 0, 0, 0))
        placed.paste(img, (x, y))
        expected = Image.alpha_composite(expected, placed)
        args.append("%s@%d,%d" % (path, x, y))
    out = tmp_path / "out.png"
    result = run("--size", "%dx%d" % canvas, "-o", out, *args)
    assert result.returncode == 0, result.stderr
    diff = oracle.compare(expected, str(out))
    assert diff.max_diff <= oracle.TOLERANCE, oracle.describe(diff)


@pytest.mark.parametrize("seed", range(6))
def test_tinted_stacks_match_pillow(tmp_path, seed):
    """Layers tinted with random colours (LAYER.png@X,Y#RRGGBB), some left
    as drawn, against Pillow's multiply of the same layers."""
    rng = random.Random(200 + seed)
    canvas = (rng.randint(20, 120), rng.randint(20, 120))
    expected = Image.new("RGBA", canvas, (0, 0, 0, 0))
    args = []
    for i in range(rng.randint(1, 5)):
        size = (rng.randint(2, canvas[0] + 20), rng.randint(2, canvas[1] + 20))
        path = tmp_path / ("layer%d.png" % i)
        img = save_as(random_layer(rng, size), path, MODES[(seed + i) % len(MODES)])
        x, y = rng.randint(-size[0] + 1, canvas[0] - 1), rng.randint(-size[1] + 1, canvas[1] - 1)
        colour = "#%06x" % rng.randrange(1 << 24) if i == 0 or rng.random() < 0.7 else ""
        placed = Image.new("RGBA", canvas, (0, 0, 0, 0))
        placed.paste(oracle.tint(img, colour) if colour else img, (x, y))
        expected = Image.alpha_composite(expected, placed)
        args.append("%s@%d,%d%s" % (path, x, y, colour))
    out = tmp_path / "out.png"
    result = run("--size", "%dx%d" % canvas, "-o", out, *args)
    assert result.returncode == 0, result.stderr
    diff = oracle.compare(expected, str(out))
    assert diff.max_diff <= oracle.TOLERANCE, oracle.describe(diff)


def test_tint_keeps_alpha_and_shading(tmp_path):
    """White takes the colour exactly, black stays black, a grey keeps its
    share of light, and alpha is never touched."""
    img = Image.new("RGBA", (4, 1))
    img.putdata([(255, 255, 255, 255), (0, 0, 0, 255), (128, 128, 128, 255), (255, 255, 255, 0)])
    img.save(tmp_path / "a.png")
    out = tmp_path / "out.png"
    result = run("-o", out, "%s#3366cc" % (tmp_path / "a.png"))
    assert result.returncode == 0, result.stderr
    got = list(Image.open(out).getdata())
    assert got[0] == (0x33, 0x66, 0xcc, 255)
    assert got[1] == (0, 0, 0, 255)
    assert got[2] == (26, 51, 102, 255)          # round(128 * 0x33 / 255) ...
    assert got[3][3] == 0


@pytest.mark.parametrize("seed", range(4))
def test_animation_matches_pillow(tmp_path, seed):
    """--frame: an APNG whose every frame, decoded by Pillow (which applies
    the frames' boxes, dispose and blend itself), is the composite of that
    frame's layers; durations and loop as asked."""
    rng = random.Random(300 + seed)
    canvas = (rng.randint(16, 90), rng.randint(16, 90))
    base = random_layer(rng, canvas)
    base.save(tmp_path / "base.png")
    args, expected, delays, layers = [], [], [], []
    for f in range(rng.randint(2, 6)):
        delay = rng.choice([40, 100, 250, 1000])
        if f % 3 == 2:                       # the frame before again: an empty change
            frame = expected[-1]
        else:
            frame = Image.alpha_composite(Image.new("RGBA", canvas, (0, 0, 0, 0)), base)
            layers = [tmp_path / "base.png"]
            size = (rng.randint(2, canvas[0]), rng.randint(2, canvas[1]))
            path = tmp_path / ("f%d.png" % f)
            random_layer(rng, size).save(path)
            x, y = rng.randint(-3, canvas[0] - 2), rng.randint(-3, canvas[1] - 2)
            colour = "#%06x" % rng.randrange(1 << 24) if rng.random() < 0.5 else ""
            placed = Image.new("RGBA", canvas, (0, 0, 0, 0))
            img = Image.open(path)
            placed.paste(oracle.tint(img, colour) if colour else img, (x, y))
            frame = Image.alpha_composite(frame, placed)
            layers.append("%s@%d,%d%s" % (path, x, y, colour))
        args += ["--frame", delay] + layers
        expected.append(frame)
        delays.append(delay)
    out = tmp_path / "anim.png"
    result = run("--size", "%dx%d" % canvas, "-o", out, *args)
    assert result.returncode == 0, result.stderr
    img = Image.open(out)
    assert img.format == "PNG" and getattr(img, "is_animated", False)
    assert img.n_frames == len(expected)
    assert img.info.get("loop") == 0
    for f, want in enumerate(expected):
        img.seek(f)
        assert img.info.get("duration") == delays[f]
        got = tmp_path / ("got%d.png" % f)
        img.convert("RGBA").save(got)
        diff = oracle.compare(want, str(got))
        assert diff.max_diff <= oracle.TOLERANCE, "frame %d: %s" % (f, oracle.describe(diff))


@pytest.mark.parametrize("args,message", [
    (["--frame", "0", "a.png"], "delay of 1..65535"),
    (["a.png", "--frame", "10", "a.png"], "every layer follows a --frame"),
    (["--frame", "10", "--frame", "10", "a.png"], "frame 1 has no layer"),
    (["--jpeg", "80", "--frame", "10", "a.png"], "no --jpeg"),
    (["--frame", "10", "a.png"] * 65, "at most 64 frames"),
])
def test_animation_bad_usage(tmp_path, args, message):
    Image.new("RGBA", (4, 4), (1, 2, 3, 4)).save(tmp_path / "a.png")
    out = tmp_path / "out.png"
    result = run("-o", out, *[tmp_path / a if a == "a.png" else a for a in args])
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not out.exists()


def test_default_canvas_is_the_first_layer(tmp_path):
    a = Image.new("RGBA", (30, 20), (255, 0, 0, 255))
    a.save(tmp_path / "a.png")
    b = Image.new("RGBA", (10, 10), (0, 0, 255, 128))
    b.save(tmp_path / "b.png")
    result = run("-o", tmp_path / "out.png", tmp_path / "a.png", "%s@25,15" % (tmp_path / "b.png"))
    assert result.returncode == 0, result.stderr
    out = Image.open(tmp_path / "out.png")
    assert out.size == (30, 20) and out.mode == "RGBA"
    assert out.getpixel((0, 0)) == (255, 0, 0, 255)
    assert out.getpixel((27, 17)) == (127, 0, 128, 255)      # 50% blue over red


def test_same_input_same_bytes(tmp_path):
    random_layer(random.Random(1), (64, 64)).save(tmp_path / "a.png")
    random_layer(random.Random(2), (64, 64)).save(tmp_path / "b.png")
    outs = []
    for n in range(2):
        out = tmp_path / ("out%d.png" % n)
        assert run("-o", out, tmp_path / "a.png", tmp_path / "b.png").returncode == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


# Pillow scales RGBA in its premultiplied mode (RGBa) with the same two-pass
# fixed-point Lanczos; what differs is rounding of the straight PNG the
# oracle starts from, so 1 level is expected and 2 allowed.
THUMB_TOLERANCE = 2
# Both sides use libjpeg's standard tables (4:2:0 below quality 90). Measured:
# identical pixels at 85 and 95; at 60 a 1-level difference in the flattened
# input moved a few pixels by up to one coarse quantisation step (max 10,
# mean 0.12).
JPEG_TOLERANCE = 16
JPEG_MEAN_TOLERANCE = 0.25


def random_stack(tmp_path, rng, canvas):
    """Writes a few RGBA layers; returns (composite by Pillow, layer args)."""
    expected = Image.new("RGBA", canvas, (0, 0, 0, 0))
    args = []
    for i in range(rng.randint(2, 5)):
        size = (rng.randint(10, canvas[0]), rng.randint(10, canvas[1]))
        img = random_layer(rng, size)
        path = tmp_path / ("layer%d.png" % i)
        img.save(path)
        x, y = rng.randint(-5, canvas[0] - 5), rng.randint(-5, canvas[1] - 5)
        placed = Image.new("RGBA", canvas, (0, 0, 0, 0))
        placed.paste(img, (x, y))
        expected = Image.alpha_composite(expected, placed)
        args.append("%s@%d,%d" % (path, x, y))
    return expected, args


@pytest.mark.parametrize("seed", range(6))
def test_thumbnail_matches_pillow_lanczos(tmp_path, seed):
    rng = random.Random(100 + seed)
    canvas = (rng.randint(60, 240), rng.randint(60, 320))
    _, args = random_stack(tmp_path, rng, canvas)
    full = tmp_path / "full.png"
    assert run("--size", "%dx%d" % canvas, "-o", full, *args).returncode == 0
    w, h = rng.randint(10, canvas[0]), rng.randint(10, canvas[1])
    x, y = rng.randint(0, canvas[0] - w), rng.randint(0, canvas[1] - h)
    out_w, out_h = rng.randint(4, 96), rng.randint(4, 96)
    if seed == 0:
        out_w, out_h = w * 2, h + 3            # upscaling too
    thumb = tmp_path / "thumb.png"
    result = run("--size", "%dx%d" % canvas, "--thumb", "%d,%d,%d,%d:%dx%d" %
                 (x, y, w, h, out_w, out_h), "-o", thumb, *args)
    assert result.returncode == 0, result.stderr
    expected = Image.open(full).resize((out_w, out_h), Image.Resampling.LANCZOS,
                                       box=(x, y, x + w, y + h))
    assert Image.open(thumb).size == (out_w, out_h)
    diff = oracle.compare(expected, str(thumb))
    assert diff.max_diff <= THUMB_TOLERANCE, oracle.describe(diff)


@pytest.mark.parametrize("quality,background", [(85, "#ffffff"), (60, "#204080"),
                                                (95, "#000000")])
def test_jpeg_matches_pillow(tmp_path, quality, background):
    rng = random.Random(quality)
    canvas = (160, 200)
    expected, args = random_stack(tmp_path, rng, canvas)
    out = tmp_path / "out.jpg"
    result = run("--size", "%dx%d" % canvas, "--jpeg", quality, "--background", background,
                 "-o", out, *args)
    assert result.returncode == 0, result.stderr
    ours = Image.open(out)
    assert ours.format == "JPEG" and ours.size == canvas and ours.mode == "RGB"
    flat = Image.alpha_composite(Image.new("RGBA", canvas, background), expected).convert("RGB")
    reference = tmp_path / "reference.jpg"
    flat.save(reference, quality=quality, subsampling=0 if quality >= 90 else 2)
    diff = ImageChops.difference(ours.convert("RGB"), Image.open(reference).convert("RGB"))
    worst = max(high for _, high in diff.getextrema())
    assert worst <= JPEG_TOLERANCE, worst
    assert sum(ImageStat.Stat(diff).mean) / 3 <= JPEG_MEAN_TOLERANCE
    # and close to the flattened composite itself, as JPEG goes
    mean = sum(ImageStat.Stat(ImageChops.difference(ours, flat)).mean) / 3
    assert mean < 3.0, mean


def test_jpeg_same_input_same_bytes(tmp_path):
    _, args = random_stack(tmp_path, random.Random(7), (64, 64))
    outs = []
    for n in range(2):
        out = tmp_path / ("out%d.jpg" % n)
        assert run("--size", "64x64", "--jpeg", "80", "-o", out, *args).returncode == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


@pytest.mark.parametrize("level", [0, 1, 2, 6, 12])
def test_every_png_level_gives_the_same_pixels(tmp_path, level):
    expected, args = random_stack(tmp_path, random.Random(level), (90, 70))
    out = tmp_path / "out.png"
    result = run("--size", "90x70", "--level", level, "-o", out, *args)
    assert result.returncode == 0, result.stderr
    diff = oracle.compare(expected, str(out))
    assert diff.max_diff <= oracle.TOLERANCE, oracle.describe(diff)


@pytest.mark.parametrize("args,status,message", [
    ([], 2, "usage"),
    (["-o", "OUT"], 2, "usage"),
    (["--size", "0x10", "-o", "OUT", "LAYER"], 2, "--size"),
    (["--size", "99999x10", "-o", "OUT", "LAYER"], 2, "--size"),
    (["-o", "OUT", "LAYER@1"], 2, "offset"),
    (["-o", "OUT", "LAYER@1,2,3"], 2, "offset"),
    (["--bogus", "-o", "OUT", "LAYER"], 2, "unknown option"),
    (["--jpeg", "0", "-o", "OUT", "LAYER"], 2, "--jpeg"),
    (["--jpeg", "101", "-o", "OUT", "LAYER"], 2, "--jpeg"),
    (["--jpeg", "80", "--background", "red", "-o", "OUT", "LAYER"], 2, "--background"),
    (["--background", "#ffffff", "-o", "OUT", "LAYER"], 2, "--background is for --jpeg"),
    (["--level", "13", "-o", "OUT", "LAYER"], 2, "--level"),
    (["--thumb", "0,0,4,4", "-o", "OUT", "LAYER"], 2, "--thumb"),
    (["--thumb", "0,0,0,4:2x2", "-o", "OUT", "LAYER"], 2, "--thumb"),
    (["--thumb", "0,0,4,4:2x0", "-o", "OUT", "LAYER"], 2, "--thumb"),
    (["--thumb", "2,2,4,4:2x2", "-o", "OUT", "LAYER"], 1, "not inside"),
    (["-o", "OUT", "MISSING"], 1, "not found"),
    (["-o", "OUT", "NOTPNG"], 1, "not a PNG"),
])
def test_bad_input(tmp_path, args, status, message):
    Image.new("RGBA", (4, 4)).save(tmp_path / "LAYER", format="PNG")
    (tmp_path / "NOTPNG").write_bytes(b"GIF89a not a png at all")
    args = [str(tmp_path / a) if a in ("OUT", "MISSING", "NOTPNG") or a.startswith("LAYER")
            else a for a in args]
    result = run(*args)
    assert result.returncode == status, (result.returncode, result.stderr)
    assert message in result.stderr + result.stdout
    assert not (tmp_path / "OUT").exists()


def test_crashers_are_refused_quickly(tmp_path):
    hostile = sorted(f for f in os.listdir(CRASHERS) if f.endswith(".png") and
                     not f.startswith("ok-"))
    assert hostile, "tests/crashers has no hostile PNGs"
    for name in hostile:
        started = time.monotonic()
        result = run("-o", tmp_path / "out.png", os.path.join(CRASHERS, name))
        took = time.monotonic() - started
        assert result.returncode == 1, (name, result.stderr)
        assert "kisekae-compose: " in result.stderr, name
        assert took < scaled(1.0), (name, took)
        assert not (tmp_path / "out.png").exists()
