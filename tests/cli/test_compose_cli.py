"""kisekae-compose driven from outside, against Pillow as the oracle.

Random stacks of layers in every PNG colour type (RGBA, grey+alpha, palette
with tRNS, grey, RGB, 16-bit grey, interlaced), at random offsets that clip
at every edge, are composed by kisekae-compose and by Pillow's
alpha_composite; the results must agree within 2 levels per premultiplied
channel. Bad input must fail with a message and without an output file.

ctest runs it with KISEKAE_COMPOSE pointing at the built binary.
"""
import os
import random
import subprocess
import sys
import time

import pytest
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import oracle  # noqa: E402

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


@pytest.mark.parametrize("args,status,message", [
    ([], 2, "usage"),
    (["-o", "OUT"], 2, "usage"),
    (["--size", "0x10", "-o", "OUT", "LAYER"], 2, "--size"),
    (["--size", "99999x10", "-o", "OUT", "LAYER"], 2, "--size"),
    (["-o", "OUT", "LAYER@1"], 2, "offset"),
    (["-o", "OUT", "LAYER@1,2,3"], 2, "offset"),
    (["--jpeg", "80", "-o", "OUT", "LAYER"], 2, "unknown option"),
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
        assert took < 1.0, (name, took)
        assert not (tmp_path / "out.png").exists()
