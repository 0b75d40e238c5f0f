"""Never a broken image: where GET /avatar/{id}.png has no image to redirect
a browser to, it answers the placeholder picture itself (http_avatar.c,
common/placeholder.c), with Cache-Control: no-cache and a status that says
why, and the redirect comes back as soon as the image can be served.

The built-in placeholder is checked with Pillow: a PNG of the canvas size
(of the thumbnail size for /thumb.png), opaque grey at the centre of the
silhouette's head and transparent in its corners.
"""

import io

import requests
from PIL import Image

from conftest import as_list, unique, wait_for


def get(env, path):
    return requests.get(env["KISEKAE_API_URL"] + path, allow_redirects=False, timeout=10)


def check_silhouette(response, size=None):
    assert response.headers["Content-Type"] == "image/png"
    assert "no-cache" in response.headers.get("Cache-Control", "")
    image = Image.open(io.BytesIO(response.content)).convert("RGBA")
    if size:
        assert image.size == size
    w, h = image.size
    assert image.getpixel((0, 0))[3] == 0 and image.getpixel((w - 1, 0))[3] == 0
    r, g, b, a = image.getpixel((w // 2, int(h * 0.30)))
    assert a == 255 and 0xb0 <= r <= 0xd8 and abs(r - g) <= 2 and b >= r, (r, g, b, a)
    return image.size


def test_an_unknown_member_gets_the_placeholder(env, site):
    # the canvas of the stack, from an existing member's real image
    user_id = unique("ph-real")
    avatar = site.service.CreateAvatar(userId=user_id)
    canvas = Image.open(io.BytesIO(requests.get(avatar.url, timeout=10).content)).size
    thumb = Image.open(io.BytesIO(requests.get(avatar.thumbUrl, timeout=10).content)).size
    missing = unique("ph-nobody")
    response = get(env, "avatar/%s.png" % missing)
    assert response.status_code == 404
    assert response.headers.get("X-Kisekae-Placeholder") == "no such member"
    check_silhouette(response, canvas)
    response = get(env, "avatar/%s/thumb.png" % missing)
    assert response.status_code == 404
    check_silhouette(response, thumb)


def test_a_member_on_a_server_marked_down_gets_the_placeholder(env, admin, site):
    servers = [s.name for s in as_list(admin.service.ListImageServers()) if s.mode == "active"]
    user_id = unique("ph-down")
    site.service.CreateAvatar(userId=user_id, imageServer=servers[-1])
    wait_for(lambda: get(env, "avatar/%s.png" % user_id).status_code == 302,
             "the redirect of a new member")
    admin.service.SetImageServerMode(name=servers[-1], mode="down")
    try:
        def placeholder():              # a list: a 503 response itself is falsy
            response = get(env, "avatar/%s.png" % user_id)
            return [response] if response.status_code == 503 else None
        response = wait_for(placeholder, "the placeholder", timeout=15)[0]
        assert response.headers.get("Retry-After")
        assert "down" in response.headers.get("X-Kisekae-Placeholder", "")
        check_silhouette(response)
    finally:
        admin.service.SetImageServerMode(name=servers[-1], mode="active")
    wait_for(lambda: get(env, "avatar/%s.png" % user_id).status_code == 302,
             "the redirect once the server is back", timeout=15)


def test_an_image_server_answers_the_placeholder_for_a_gone_member(site, env):
    """The image of a deleted member: not in the store, and no recipe to
    rebuild it from, so the image server answers 404 with the placeholder
    (its own silhouette, placeholder_size), not a text page."""
    user_id = unique("ph-gone")
    avatar = site.service.CreateAvatar(userId=user_id)
    assert requests.get(avatar.url, timeout=10).status_code == 200
    site.service.DeleteAvatar(userId=user_id)

    def gone():                             # the deletion queue runs at once, or in a second
        response = requests.get(avatar.url, timeout=10)
        return [response] if response.status_code == 404 else None
    response = wait_for(gone, "the deleted image gone", timeout=15)[0]
    assert response.headers.get("X-Kisekae-Placeholder"), response.headers
    check_silhouette(response)
    thumb = wait_for(lambda: (lambda r: [r] if r.status_code == 404 else None)(
        requests.get(avatar.thumbUrl, timeout=10)), "the deleted thumbnail gone")[0]
    check_silhouette(thumb, (96, 96))
