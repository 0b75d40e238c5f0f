#!/usr/bin/python3
"""ensure_scene.py: makes sure the stack has an album scene (the album page
and the walkthroughs need one). When ListScenes is empty it draws a park
with Pillow (a sky, hills, a lawn; 1000x380, five slots for the 240x320
avatar canvas) and registers it as admin with zeep; otherwise it changes
nothing. Prints the scene's id and name.

    set -a; . var/stack.env; set +a; /usr/bin/python3 tests/site/ensure_scene.py
"""
import argparse
import io
import os
import sys

import requests
import zeep
from PIL import Image, ImageDraw

WIDTH, HEIGHT = 1000, 380
SLOTS = [(380, 50), (200, 40), (560, 40), (20, 55), (740, 55)]  # slot 0: the member, in front


def park_png():
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    for y in range(HEIGHT):                      # the sky, lighter towards the horizon
        t = y / HEIGHT
        draw.line([(0, y), (WIDTH, y)], fill=(int(120 + 110 * t), int(180 + 60 * t), 250))
    draw.ellipse([820, 30, 900, 110], fill=(255, 224, 120))
    draw.ellipse([-200, 180, 520, 520], fill=(120, 190, 110))
    draw.ellipse([380, 200, 1200, 560], fill=(100, 175, 95))
    draw.rectangle([0, 300, WIDTH, HEIGHT], fill=(140, 205, 120))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def main():
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    session = requests.Session()
    session.auth = (os.environ["KISEKAE_ADMIN_USER"], os.environ["KISEKAE_ADMIN_PASSWORD"])
    url = os.environ.get("KISEKAE_API_URL") or os.environ["KISEKAE_API_URLS"].split()[0]
    client = zeep.Client(url + "?wsdl", transport=zeep.Transport(session=session, timeout=30))
    service = client.create_service("{urn:kisekae:v1}Kisekae", url)
    scenes = service.ListScenes()
    if scenes:
        print("scene %d %s (already there)" % (scenes[0].id, scenes[0].name))
        return 0
    scene = service.RegisterScene(name="Park", png=park_png(),
                                  slot=[{"x": x, "y": y} for x, y in SLOTS])
    print("scene %d %s (registered)" % (scene.id, scene.name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
