#!/usr/bin/python3
"""generate.py: draws the sample catalog's item art and writes its catalog.json.

    samples/items/generate.py OUTDIR

Everything is drawn here with Pillow (no downloads) in a simple chibi style:
each part is a filled silhouette with a dark outline, drawn at 4x the canvas
size and reduced with LANCZOS, so edges are anti-aliased and layers carry
semi-transparent pixels (edges, a soft ground shadow, tinted glasses lenses),
which is what the compositor tests need. The output is deterministic: there is
no randomness beyond fixed seeds, so the same Pillow gives the same bytes.

Every layer is a FULL-CANVAS 240x320 RGBA PNG, transparent around the art,
exactly as an admin uploads it (the API server trims it to its bounding box).
OUTDIR receives:
  <item-key>-<layer no>.png   one file per item layer
  catalog.json                canvas, categories, items (with layer files and
                              z-orders) and the demo member's outfit
  preview.png                 a contact sheet: the demo outfit, another
                              outfit, and every item on its own
  scene-park.png              the album scene "park": an opaque 800x440
                              background with 5 slots (catalog.json "scenes")
samples/load_catalog.py registers the result through the SOAP API.
"""

import json
import os
import random
import sys

from PIL import Image, ImageChops, ImageDraw, ImageFilter

CANVAS_W, CANVAS_H = 240, 320
SCALE = 4                               # drawing resolution / canvas resolution
SEED = 20240601                         # fixed: the art never changes between runs

# (name, zOrder, exclusive, required)
CATEGORIES = [
    ("body", 100, True, True),
    ("hair", 50, True, False),          # back layer 50, front layer 400
    ("shoes", 150, True, False),
    ("bottom", 180, True, False),
    ("top", 200, True, False),
    ("accessory", 500, False, False),
]
HAIR_FRONT_Z = 400


# ---------------------------------------------------------------- drawing ---

def _s(v):
    return v * SCALE


class Pen:
    """ImageDraw in canvas coordinates (floats), drawing at SCALE."""

    def __init__(self, image):
        self.draw = ImageDraw.Draw(image)

    def ellipse(self, cx, cy, rx, ry, fill=255):
        self.draw.ellipse([_s(cx - rx), _s(cy - ry), _s(cx + rx), _s(cy + ry)], fill=fill)

    def circle(self, cx, cy, r, fill=255):
        self.ellipse(cx, cy, r, r, fill)

    def polygon(self, points, fill=255):
        self.draw.polygon([(_s(x), _s(y)) for x, y in points], fill=fill)

    def rect(self, x0, y0, x1, y1, fill=255, radius=0):
        box = [_s(x0), _s(y0), _s(x1), _s(y1)]
        if radius:
            self.draw.rounded_rectangle(box, radius=_s(radius), fill=fill)
        else:
            self.draw.rectangle(box, fill=fill)

    def line(self, points, fill=255, width=2.0):
        pts = [(_s(x), _s(y)) for x, y in points]
        w = max(1, round(_s(width)))
        self.draw.line(pts, fill=fill, width=w, joint="curve")
        r = w / 2.0                                     # round caps
        for x, y in (pts[0], pts[-1]):
            self.draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)

    def arc(self, cx, cy, rx, ry, start, end, fill=255, width=2.0):
        self.draw.arc([_s(cx - rx), _s(cy - ry), _s(cx + rx), _s(cy + ry)], start, end,
                      fill=fill, width=max(1, round(_s(width))))

    def chord(self, cx, cy, rx, ry, start, end, fill=255):
        self.draw.chord([_s(cx - rx), _s(cy - ry), _s(cx + rx), _s(cy + ry)], start, end,
                        fill=fill)


def darker(color, f=0.55):
    return tuple(int(c * f) for c in color[:3]) + (255,)


def lighter(color, f=0.45):
    return tuple(int(c + (255 - c) * f) for c in color[:3]) + (255,)


def opaque(color):
    return tuple(color[:3]) + (255,)


class Layer:
    """One full-canvas layer being drawn at SCALE."""

    def __init__(self):
        self.size = (_s(CANVAS_W), _s(CANVAS_H))
        self.image = Image.new("RGBA", self.size, (0, 0, 0, 0))

    def mask(self, shapes):
        """A binary mask: shapes(pen) draws 255 to add and 0 to cut."""
        m = Image.new("L", self.size, 0)
        shapes(Pen(m))
        return m

    def part(self, shapes, fill, outline=None, outline_width=1.6, shade=None, shine=None,
             clip=None):
        """Paints a silhouette: a dark outline around it, the fill, then an
        optional shade and shine drawn inside the silhouette only.
        shade/shine are (shapes, color) pairs. clip limits the whole part."""
        m = self.mask(shapes)
        if clip is not None:
            m = ImageChops.multiply(m, clip)
        box = m.getbbox()
        if box is None:
            return m
        if outline_width > 0:
            self.image.paste(opaque(outline or darker(fill)), mask=dilate(m, outline_width))
        self.image.paste(opaque(fill), mask=m)
        for extra in (shade, shine):
            if extra is not None:
                inner = ImageChops.multiply(self.mask(extra[0]), m)
                self.image.paste(opaque(extra[1]), mask=inner)
        return m

    def detail(self, shapes, color):
        """Lines and dots drawn straight onto the layer (opaque)."""
        self.image.paste(opaque(color), mask=self.mask(shapes))

    def glaze(self, shapes, color, blur=0.0):
        """A semi-transparent shape composited over what is there."""
        over = Image.new("RGBA", self.size, (0, 0, 0, 0))
        m = self.mask(shapes)
        if blur:
            m = m.filter(ImageFilter.GaussianBlur(_s(blur)))
        alpha = m.point(lambda v: v * color[3] // 255)
        over.paste(color[:3] + (255,), mask=m)
        over.putalpha(alpha)
        self.image = Image.alpha_composite(self.image, over)

    def final(self):
        return self.image.resize((CANVAS_W, CANVAS_H), Image.LANCZOS)


def dilate(mask, width):
    """Grows a binary mask by about width canvas pixels (round corners)."""
    r = _s(width)
    box = mask.getbbox()
    pad = int(r * 2 + 4)
    x0, y0 = max(0, box[0] - pad), max(0, box[1] - pad)
    x1, y1 = min(mask.width, box[2] + pad), min(mask.height, box[3] + pad)
    crop = mask.crop((x0, y0, x1, y1)).filter(ImageFilter.GaussianBlur(r / 2.0))
    crop = crop.point(lambda v: 255 if v > 6 else 0)
    out = Image.new("L", mask.size, 0)
    out.paste(crop, (x0, y0))
    return ImageChops.lighter(out, mask)


# ------------------------------------------------------------- the figure ---
# Canvas coordinates of the figure every item is drawn to fit.
HEAD = (120, 104, 60, 56)               # cx, cy, rx, ry
EYES = ((98, 120), (142, 120))
L_ARM = [(94, 180), (82, 207), (74, 232)]
R_ARM = [(146, 180), (158, 207), (166, 232)]
HANDS = ((73, 237), (167, 237))
L_LEG = (99, 236, 117, 298)
R_LEG = (123, 236, 141, 298)


def torso(p, grow=0.0, top=166, bottom=242):
    g = grow
    p.polygon([(98 - g, top - g), (142 + g, top - g), (149 + g, 180), (146 + g, bottom + g),
               (94 - g, bottom + g), (91 - g, 180)])
    p.ellipse(98, 180, 9 + g, 13 + g)
    p.ellipse(142, 180, 9 + g, 13 + g)


def draw_body(skin, outline, eye, undies):
    layer = Layer()
    # soft ground shadow: a semi-transparent, blurred ellipse under the feet
    layer.glaze(lambda p: p.ellipse(120, 305, 38, 6), (40, 30, 60, 70), blur=2.0)
    # legs and feet
    layer.part(lambda p: (p.rect(*L_LEG, radius=8), p.rect(*R_LEG, radius=8)), skin, outline)
    layer.part(lambda p: (p.ellipse(106, 299, 12, 6.5), p.ellipse(134, 299, 12, 6.5)),
               skin, outline)
    # arms and hands
    layer.part(lambda p: (p.line(L_ARM, width=15), p.line(R_ARM, width=15)), skin, outline)
    layer.part(lambda p: [p.circle(x, y, 8.5) for x, y in HANDS], skin, outline)
    # neck, torso (with a simple leotard), head with ears
    layer.part(lambda p: p.rect(111, 148, 129, 174, radius=4), skin, outline,
               shade=(lambda p: p.rect(100, 148, 140, 158), darker(skin, 0.88)))
    layer.part(lambda p: torso(p), undies, outline)
    layer.detail(lambda p: p.arc(120, 164, 10, 8, 20, 160, width=1.4), darker(undies, 0.7))
    layer.part(lambda p: (p.ellipse(61, 114, 9, 12), p.ellipse(179, 114, 9, 12)), skin, outline)
    cx, cy, rx, ry = HEAD
    layer.part(lambda p: p.ellipse(cx, cy, rx, ry), skin, outline)
    # face: eyes with highlights, blush, nose, mouth
    for ex, ey in EYES:
        layer.part(lambda p: p.ellipse(ex, ey, 8.5, 11.5), eye, (40, 25, 35),
                   outline_width=1.0,
                   shade=(lambda p: p.ellipse(ex, ey + 6, 8.5, 6), lighter(eye, 0.35)))
        layer.detail(lambda p: (p.circle(ex - 3, ey - 5, 3.2), p.circle(ex + 3, ey + 4, 1.5)),
                     (255, 255, 255))
        layer.detail(lambda p: p.arc(ex, ey + 1, 11, 13, 200, 340, width=2.2), (40, 25, 35))
    layer.glaze(lambda p: (p.ellipse(82, 138, 10, 5), p.ellipse(158, 138, 10, 5)),
                (255, 110, 130, 120), blur=1.0)
    layer.detail(lambda p: p.circle(120, 131, 1.1), darker(skin, 0.75))
    layer.detail(lambda p: p.arc(120, 137, 6, 5, 30, 150, width=1.6), (150, 60, 70))
    return layer.final()


# -------------------------------------------------------------------- hair ---

def hair_cap(p, grow=0.0):
    cx, cy, rx, ry = HEAD
    p.ellipse(cx, cy - 6, rx + 8 + grow, ry + 6 + grow)


def hair_shine(p):
    p.arc(120, 100, 50, 44, 205, 255, width=4)
    p.arc(120, 100, 50, 44, 285, 320, width=4)


def draw_hair_bob(color):
    back = Layer()
    back.part(lambda p: (hair_cap(p), p.rect(52, 90, 188, 160, radius=26)), color,
              shade=(lambda p: p.rect(40, 140, 200, 170), darker(color, 0.8)))
    front = Layer()

    def fringe(p):
        hair_cap(p)
        # the face window, with a zigzag fringe along its top edge
        p.polygon([(68, 170), (68, 112), (76, 100), (86, 110), (96, 97), (108, 108),
                   (120, 95), (132, 108), (144, 97), (154, 110), (164, 100), (172, 112),
                   (172, 170)], fill=0)
        # side locks over the ears, down to the chin
        p.polygon([(56, 100), (76, 104), (74, 150), (64, 158), (54, 140)])
        p.polygon([(184, 100), (164, 104), (166, 150), (176, 158), (186, 140)])
    front.part(fringe, color, shine=(hair_shine, lighter(color, 0.5)))
    return back.final(), front.final()


def draw_hair_twintails(color, tie):
    back = Layer()

    def tails(p):
        hair_cap(p)
        for side in (-1, 1):
            x = 120 + side * 72
            p.polygon([(x - side * 10, 96), (x + side * 18, 104), (x + side * 26, 170),
                       (x + side * 14, 236), (x + side * 2, 250), (x - side * 4, 210),
                       (x - side * 8, 150)])
            p.ellipse(x + side * 8, 150, 18, 50)

    def tail_shade(p):
        for side in (-1, 1):
            x = 120 + side * 72
            p.ellipse(x + side * 16, 175, 9, 60)
    back.part(tails, color, shade=(tail_shade, darker(color, 0.86)))
    back.detail(lambda p: [p.line([(120 + s * 74, 112), (120 + s * 80, 170), (120 + s * 76, 222)],
                                  width=1.2) for s in (-1, 1)], darker(color, 0.7))
    front = Layer()

    def fringe(p):
        hair_cap(p)
        p.polygon([(66, 170), (66, 112), (72, 100), (82, 112), (92, 94), (104, 110),
                   (116, 92), (126, 110), (140, 94), (150, 110), (160, 98), (168, 108),
                   (174, 112), (174, 170)], fill=0)
        p.polygon([(58, 100), (76, 106), (72, 146), (60, 156)])
        p.polygon([(182, 100), (164, 106), (168, 146), (180, 156)])
    front.part(fringe, color, shine=(hair_shine, lighter(color, 0.5)))
    # hair ties where the tails start
    front.part(lambda p: (p.circle(52, 98, 8), p.circle(188, 98, 8)), tie,
               shine=(lambda p: (p.circle(50, 95, 2.5), p.circle(186, 95, 2.5)),
                      lighter(tie, 0.6)))
    return back.final(), front.final()


def draw_hair_long(color):
    back = Layer()
    def mane(p):
        hair_cap(p)
        p.rect(50, 96, 190, 236, radius=24)
        # pointed ends
        p.polygon([(50, 220), (62, 256), (80, 232), (96, 252), (110, 232), (130, 232),
                   (144, 252), (160, 232), (178, 256), (190, 220)])
    back.part(mane, color, shade=(lambda p: p.rect(40, 226, 200, 260), darker(color, 0.8)))
    back.detail(lambda p: (p.line([(70, 170), (68, 236)], width=1.2),
                           p.line([(170, 170), (172, 236)], width=1.2)), darker(color, 0.6))
    front = Layer()

    def fringe(p):
        hair_cap(p)
        # side-swept fringe: longer on the left
        p.polygon([(70, 170), (70, 118), (80, 108), (100, 104), (122, 98), (146, 94),
                   (160, 96), (170, 106), (172, 170)], fill=0)
        p.polygon([(54, 96), (80, 100), (78, 150), (74, 196), (60, 190), (52, 140)])
        p.polygon([(186, 96), (162, 102), (166, 150), (170, 196), (182, 190), (188, 140)])
    front.part(fringe, color, shine=(hair_shine, lighter(color, 0.45)))
    front.detail(lambda p: (p.line([(100, 80), (88, 106)], width=1.2),
                            p.line([(128, 76), (116, 100)], width=1.2)), darker(color, 0.6))
    return back.final(), front.final()


# -------------------------------------------------------------- clothing ---

def arm_path(arm, start, end):
    """The points of an arm from fraction start to fraction end (0..1)."""
    (x0, y0), (x1, y1), (x2, y2) = arm

    def at(t):
        if t <= 0.5:
            return (x0 + (x1 - x0) * t * 2, y0 + (y1 - y0) * t * 2)
        return (x1 + (x2 - x1) * (t - 0.5) * 2, y1 + (y2 - y1) * (t - 0.5) * 2)
    return [at(start)] + ([(x1, y1)] if start < 0.5 < end else []) + [at(end)]


def draw_sleeves(layer, length, fill, cuff=None, grow=3.5):
    """Sleeves along both arms, each its own outlined part (so the arms stay
    readable against the torso); length is 0..1 of the arm."""
    for arm in (L_ARM, R_ARM):
        layer.part(lambda p: p.line(arm_path(arm, 0.0, length), width=15 + 2 * grow), fill)
        if cuff is not None:
            layer.part(lambda p: p.line(arm_path(arm, length - 0.08, length),
                                        width=15 + 2 * grow), cuff, outline_width=1.2)


def draw_tshirt(color, print_color):
    layer = Layer()

    def shirt(p):
        torso(p, grow=3, top=166, bottom=232)
        p.ellipse(120, 164, 12, 8, fill=0)              # neckline
    layer.part(shirt, color, shade=(lambda p: p.rect(80, 222, 160, 240), darker(color, 0.85)))
    draw_sleeves(layer, 0.42, color)
    # a heart print
    layer.part(lambda p: (p.circle(114, 196, 6), p.circle(126, 196, 6),
                          p.polygon([(108.5, 198), (131.5, 198), (120, 211)])),
               print_color, outline_width=0.8)
    layer.detail(lambda p: p.arc(120, 164, 12, 8, 0, 180, width=1.6), darker(color, 0.6))
    return layer.final()


def draw_sailor(color, collar, scarf):
    layer = Layer()

    def blouse(p):
        torso(p, grow=3, top=166, bottom=234)
        p.ellipse(120, 164, 11, 7, fill=0)
    layer.part(blouse, color, shade=(lambda p: p.rect(80, 224, 160, 240), darker(color, 0.9)))
    draw_sleeves(layer, 0.86, color, cuff=collar)
    # sailor collar with a white stripe, and the neckerchief
    layer.part(lambda p: p.polygon([(96, 164), (144, 164), (152, 176), (120, 204), (88, 176)]),
               collar)
    layer.detail(lambda p: p.line([(93, 175), (120, 198), (147, 175)], width=1.4),
                 (255, 255, 255))
    layer.part(lambda p: p.polygon([(110, 168), (130, 168), (120, 186)]), color,
               outline_width=0.8)
    layer.part(lambda p: (p.polygon([(120, 198), (106, 218), (114, 222)]),
                          p.polygon([(120, 198), (134, 218), (126, 222)])), scarf)
    layer.part(lambda p: (p.polygon([(120, 198), (104, 190), (104, 206)]),
                          p.polygon([(120, 198), (136, 190), (136, 206)])), scarf)
    layer.part(lambda p: p.circle(120, 198, 4.5), scarf)
    return layer.final()


def draw_skirt(color, stripe):
    layer = Layer()
    layer.part(lambda p: p.polygon([(94, 222), (146, 222), (162, 264), (78, 264)]), color,
               shade=(lambda p: p.polygon([(70, 256), (170, 256), (170, 270), (70, 270)]),
                      darker(color, 0.8)))
    # pleats and a plaid stripe
    layer.detail(lambda p: [p.line([(104 + i * 8, 228), (94 + i * 13, 262)], width=1.0)
                            for i in range(5)], darker(color, 0.6))
    layer.detail(lambda p: p.line([(86, 248), (154, 248)], width=1.6), stripe)
    layer.part(lambda p: p.rect(93, 219, 147, 227, radius=3), darker(color, 0.8),
               outline_width=1.0)
    return layer.final()


def draw_jeans(color):
    layer = Layer()

    def jeans(p):
        p.rect(93, 220, 147, 252, radius=6)
        p.rect(97, 236, 119.5, 290, radius=5)
        p.rect(120.5, 236, 143, 290, radius=5)
    layer.part(jeans, color, shade=(lambda p: p.rect(80, 282, 160, 292), lighter(color, 0.25)))
    layer.detail(lambda p: (p.line([(120, 232), (120, 252)], width=1.0),
                            p.line([(108, 226), (106, 236)], width=1.0),
                            p.line([(132, 226), (134, 236)], width=1.0)), darker(color, 0.6))
    layer.detail(lambda p: (p.line([(98, 286), (118, 286)], width=1.0),
                            p.line([(122, 286), (142, 286)], width=1.0)), lighter(color, 0.5))
    layer.part(lambda p: p.rect(93, 219, 147, 226, radius=3), darker(color, 0.8),
               outline_width=1.0)
    layer.part(lambda p: p.rect(116, 219.5, 124, 225.5, radius=1.5), (230, 190, 80),
               outline_width=0.6)
    return layer.final()


def draw_sneakers(color, sole):
    layer = Layer()

    def shoes(p):
        for x in (106, 134):
            p.ellipse(x, 297, 14.5, 9)
            p.rect(x - 10, 284, x + 10, 298, radius=4)
    layer.part(shoes, color,
               shade=(lambda p: p.rect(80, 300, 160, 310), sole),
               shine=(lambda p: (p.circle(101, 292, 2.5), p.circle(129, 292, 2.5)),
                      lighter(color, 0.6)))
    layer.detail(lambda p: (p.line([(100, 289), (112, 289)], width=1.2),
                            p.line([(128, 289), (140, 289)], width=1.2)), (255, 255, 255))
    return layer.final()


def draw_boots(color):
    layer = Layer()

    def boots(p):
        for x in (106, 134):
            p.ellipse(x, 298, 14, 8.5)
            p.rect(x - 11, 262, x + 11, 300, radius=5)
    layer.part(boots, color, shade=(lambda p: p.rect(80, 302, 160, 310), darker(color, 0.6)),
               shine=(lambda p: (p.rect(98, 268, 101, 290), p.rect(126, 268, 129, 290)),
                      lighter(color, 0.35)))
    layer.part(lambda p: (p.rect(94, 260, 118, 268, radius=3), p.rect(122, 260, 146, 268,
                                                                        radius=3)),
               lighter(color, 0.55), outline_width=1.0)
    return layer.final()


def draw_ribbon(color):
    layer = Layer()
    cx, cy = 158, 58
    layer.part(lambda p: (p.polygon([(cx, cy), (cx - 30, cy - 18), (cx - 26, cy + 16)]),
                          p.polygon([(cx, cy), (cx + 30, cy - 18), (cx + 26, cy + 16)])),
               color, shade=(lambda p: p.rect(cx - 40, cy + 6, cx + 40, cy + 20),
                             darker(color, 0.82)))
    layer.part(lambda p: (p.polygon([(cx - 4, cy + 4), (cx - 16, cy + 30), (cx - 8, cy + 28)]),
                          p.polygon([(cx + 4, cy + 4), (cx + 14, cy + 32), (cx + 6, cy + 30)])),
               color)
    layer.part(lambda p: p.ellipse(cx, cy, 7, 8), color,
               shine=(lambda p: p.circle(cx - 2, cy - 3, 2.2), lighter(color, 0.6)))
    return layer.final()


def draw_glasses(frame, lens):
    layer = Layer()
    (lx, ly), (rx, ry) = EYES
    # tinted, semi-transparent lenses
    layer.glaze(lambda p: (p.circle(lx, ly, 15), p.circle(rx, ry, 15)), lens)
    layer.glaze(lambda p: (p.line([(lx - 8, ly - 6), (lx - 3, ly - 11)], width=2.2),
                           p.line([(rx - 8, ry - 6), (rx - 3, ry - 11)], width=2.2)),
                (255, 255, 255, 150))
    layer.detail(lambda p: (p.arc(lx, ly, 15, 15, 0, 360, width=2.6),
                            p.arc(rx, ry, 15, 15, 0, 360, width=2.6),
                            p.arc(120, ly + 2, 7, 6, 200, 340, width=2.4),
                            p.line([(lx - 15, ly - 2), (64, 110)], width=2.2),
                            p.line([(rx + 15, ry - 2), (176, 110)], width=2.2)), frame)
    return layer.final()


# ----------------------------------------------------------------- scenes ---
# The album scene "park": a background wider than the canvas with 5 slots,
# each the top-left corner of a whole avatar canvas inside it. Slot 0 (the
# member's own) is in the middle; friends stand beside and behind it.
PARK_W, PARK_H = 800, 440
PARK_SLOTS = [(280, 104), (130, 92), (430, 92), (0, 80), (560, 80)]


def draw_park():
    """An opaque RGB park: sky, sun, clouds, hills, trees, a lawn and a path."""
    w, h = PARK_W, PARK_H
    horizon = 250
    image = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(image)
    for y in range(horizon):                            # sky: a vertical gradient
        t = y / horizon
        d.line([(0, y), (w, y)], fill=(int(120 + 90 * t), int(180 + 50 * t), 250))
    d.ellipse([640, 30, 710, 100], fill=(255, 236, 150))
    for cx, cy, r in ((120, 60, 26), (150, 52, 32), (182, 62, 24), (470, 90, 20),
                      (496, 82, 26), (524, 92, 18)):
        d.ellipse([cx - r, cy - r * 0.7, cx + r, cy + r * 0.7], fill=(252, 252, 255))
    d.ellipse([-200, 170, 420, 380], fill=(128, 186, 120))     # distant hills
    d.ellipse([300, 190, 1000, 400], fill=(116, 176, 112))
    d.rectangle([0, horizon, w, h], fill=(128, 200, 96))       # the lawn
    for x, y, r in ((60, 230, 46), (210, 214, 40), (610, 222, 44), (760, 236, 50)):
        d.rectangle([x - 7, y, x + 7, y + 70], fill=(120, 82, 52))
        d.ellipse([x - r, y - r * 1.2, x + r, y + r * 0.5], fill=(70, 140, 70))
        d.ellipse([x - r * 0.6, y - r * 1.1, x + r * 0.2, y - r * 0.4], fill=(96, 166, 90))
    d.polygon([(340, horizon), (460, horizon), (620, h), (180, h)], fill=(222, 200, 156))
    rng = random.Random(SEED)                           # flowers, the same every run
    for i in range(60):
        x, y = rng.randrange(w), rng.randrange(horizon + 8, h - 4)
        spread = (y - horizon) * 160 / (h - horizon)        # the path widens downwards
        if 340 - spread - 6 < x < 460 + spread + 6:
            continue
        d.ellipse([x - 3, y - 3, x + 3, y + 3],
                  fill=((250, 120, 150), (255, 230, 90), (250, 250, 250))[i % 3])
    return image


# --------------------------------------------------------------- catalog ---

def build_items():
    """(key, category, name, price, default, [(image, zOrder)...]) in order."""
    random.seed(SEED)                   # nothing random today; keep any future use fixed
    items = []

    def add(key, category, name, price, layers, default=False):
        items.append((key, category, name, price, default, layers))

    add("body-light", "body", "Body (light skin)", 0,
        [(draw_body((255, 226, 204), (176, 112, 92), (92, 62, 48), (240, 240, 248)), 100)],
        default=True)
    add("body-tan", "body", "Body (tan skin)", 0,
        [(draw_body((210, 158, 118), (122, 76, 52), (44, 74, 104), (236, 236, 244)), 100)])
    for key, name, price, (back, front) in (
            ("hair-bob", "Brown bob", 100, draw_hair_bob((132, 84, 52))),
            ("hair-twintails", "Pink twin tails", 150,
             draw_hair_twintails((246, 150, 182), (110, 190, 240))),
            ("hair-long", "Long midnight hair", 120, draw_hair_long((52, 58, 96)))):
        add(key, "hair", name, price, [(back, 50), (front, HAIR_FRONT_Z)])
    add("top-tshirt", "top", "Red heart T-shirt", 80,
        [(draw_tshirt((232, 82, 94), (255, 240, 244)), 200)])
    add("top-sailor", "top", "Sailor blouse", 140,
        [(draw_sailor((250, 250, 252), (42, 56, 110), (220, 40, 60)), 200)])
    add("bottom-skirt", "bottom", "Pleated navy skirt", 90,
        [(draw_skirt((52, 66, 128), (220, 60, 70)), 180)])
    add("bottom-jeans", "bottom", "Blue jeans", 90, [(draw_jeans((70, 110, 180)), 180)])
    add("shoes-sneakers", "shoes", "Red sneakers", 60,
        [(draw_sneakers((226, 64, 72), (250, 250, 250)), 150)])
    add("shoes-boots", "shoes", "Brown boots", 70, [(draw_boots((140, 88, 56)), 150)])
    add("accessory-ribbon", "accessory", "Big red ribbon", 40,
        [(draw_ribbon((236, 54, 88)), 500)])
    add("accessory-glasses", "accessory", "Round glasses", 50,
        [(draw_glasses((70, 50, 60), (150, 210, 255, 80)), 500)])
    return items


DEMO_WEAR = ["body-light", "hair-twintails", "top-sailor", "bottom-skirt",
             "shoes-sneakers", "accessory-ribbon"]
ALT_WEAR = ["body-tan", "hair-long", "top-tshirt", "bottom-jeans", "shoes-boots",
            "accessory-glasses"]


def compose(layers):
    """layers: [(image, zOrder)]; stable sort by z-order, source-over."""
    out = Image.new("RGBA", (CANVAS_W, CANVAS_H), (0, 0, 0, 0))
    for image, _z in sorted(layers, key=lambda l: l[1]):
        out = Image.alpha_composite(out, image)
    return out


def checkerboard(w, h, cell=8):
    board = Image.new("RGBA", (w, h), (255, 255, 255, 255))
    d = ImageDraw.Draw(board)
    for y in range(0, h, cell):
        for x in range(0, w, cell):
            if (x // cell + y // cell) % 2:
                d.rectangle([x, y, x + cell - 1, y + cell - 1], fill=(226, 226, 232, 255))
    return board


def contact_sheet(items):
    by_key = {key: layers for key, _c, _n, _p, _d, layers in items}
    outfit = lambda keys: compose([l for k in keys for l in by_key[k]])
    big = [outfit(DEMO_WEAR).resize((CANVAS_W * 2, CANVAS_H * 2), Image.LANCZOS),
           outfit(ALT_WEAR).resize((CANVAS_W * 2, CANVAS_H * 2), Image.LANCZOS)]
    thumb_w, thumb_h, cols = CANVAS_W // 2, CANVAS_H // 2, 8
    rows = (len(items) + cols - 1) // cols
    sheet_w = max(cols * thumb_w, 2 * CANVAS_W * 2)
    sheet = Image.new("RGBA", (sheet_w, CANVAS_H * 2 + rows * thumb_h), (255, 255, 255, 255))
    for i, image in enumerate(big):
        x = i * CANVAS_W * 2
        sheet.paste(checkerboard(CANVAS_W * 2, CANVAS_H * 2), (x, 0))
        sheet.alpha_composite(image, (x, 0))
    for i, (_k, _c, _n, _p, _d, layers) in enumerate(items):
        x, y = (i % cols) * thumb_w, CANVAS_H * 2 + (i // cols) * thumb_h
        sheet.paste(checkerboard(thumb_w, thumb_h), (x, y))
        sheet.alpha_composite(compose(layers).resize((thumb_w, thumb_h), Image.LANCZOS), (x, y))
    return sheet.convert("RGB")


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr if len(argv) != 2 else sys.stdout)
        return 0 if len(argv) == 2 else 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    items = build_items()
    catalog = {
        "canvas": [CANVAS_W, CANVAS_H],
        "categories": [{"name": n, "zOrder": z, "exclusive": e, "required": r}
                       for n, z, e, r in CATEGORIES],
        "items": [],
        "demo": {"member": "demo", "wear": DEMO_WEAR},
        "scenes": [{"name": "park", "file": "scene-park.png",
                    "slots": [{"x": x, "y": y} for x, y in PARK_SLOTS]}],
    }
    for key, category, name, price, default, layers in items:
        entry = {"key": key, "category": category, "name": name, "price": price,
                 "default": default, "layers": []}
        for n, (image, z) in enumerate(layers):
            assert image.size == (CANVAS_W, CANVAS_H) and image.mode == "RGBA"
            filename = "%s-%d.png" % (key, n)
            tmp = os.path.join(outdir, filename + ".tmp")
            image.save(tmp, "PNG", optimize=True)
            os.replace(tmp, os.path.join(outdir, filename))
            layer = {"file": filename, "zOrder": z}
            if category == "hair":      # tints: hair takes a member's colour; hide rules name roles
                layer.update(tintable=True, role=("back", "front")[n])
            entry["layers"].append(layer)
        catalog["items"].append(entry)
    park = draw_park()
    assert park.width >= CANVAS_W and park.height >= CANVAS_H and all(
        x + CANVAS_W <= park.width and y + CANVAS_H <= park.height for x, y in PARK_SLOTS)
    park.save(os.path.join(outdir, "scene-park.png.tmp"), "PNG", optimize=True)
    os.replace(os.path.join(outdir, "scene-park.png.tmp"), os.path.join(outdir, "scene-park.png"))
    tmp = os.path.join(outdir, "catalog.json.tmp")
    with open(tmp, "w") as f:
        json.dump(catalog, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(outdir, "catalog.json"))
    contact_sheet(items).save(os.path.join(outdir, "preview.png"), "PNG", optimize=True)
    print("wrote %d items (%d layers) to %s" % (
        len(items), sum(len(i[5]) for i in items), outdir), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
