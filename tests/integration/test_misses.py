"""Public misses can't starve the internal API (issue 13, 1.3).

Every well-formed path on an image server's public port that is not in the
store goes through nginx's `try_files $uri @rebuild` to the FastCGI app,
which asks the API for a recipe. A bounded flood of GETs for versions that
do not exist (FLOOD_THREADS threads for FLOOD_S seconds, a few distinct
paths over and over) runs against img1's public port while the site creates
members on img1 and changes their outfits:

- no CreateAvatar or ChangeOutfit fails (rebuilds leave two FastCGI threads
  to /internal/, and nginx limits the rebuild location's rate);
- beyond the rate, nginx itself answers 503 with the placeholder the app
  left in its store (X-Kisekae-Placeholder "image server busy or
  unreachable"; the app never saw the request), a PNG Pillow reads;
- the flood's repeated misses are answered from the image server's memory
  (kisekae_image_miss_cache_hits_total rises by about as much as the app
  answered), and the API's GetImageRecipe count grows by a few per distinct
  path, not per request.

And a miss's recipe is read from a replica that knows the version asked for
(GetImageRecipe with minVersion): the replica's read count rises with each
such call, not without minVersion (the master answers the check a rebuild
makes before it stores), and a version the replica does not know yet is
answered by the master.
"""

import io
import threading
import time

import requests
from PIL import Image

from pathlib import Path

from conftest import Api, as_list, unique
from test_metrics import parse, value
from timescale import scaled

FLOOD_THREADS = 8
FLOOD_S = 3.0                 # the flood's length (load, not a bound: not scaled)
PATHS = 12                    # distinct missing versions the flood asks for
MISS_CACHE_S = 5.0            # the image server's default miss_cache_ms
NGINX_PLACEHOLDER = "image server busy or unreachable"   # nginx's @placeholder
REFILL_S = 2.5                # nginx's bucket refills (burst 100 at 50 r/s) for the next test


def scrape(url):
    response = requests.get(url, timeout=scaled(10))
    assert response.status_code == 200, response.text
    return parse(response.text)[1]


def recipe_calls(env):
    """GetImageRecipe calls answered by every API server of the stack."""
    urls = env["KISEKAE_API_METRICS_URLS"].split() + [env["KISEKAE_API_FCGI_METRICS_URL"]]
    total = 0
    for url in urls:
        samples = scrape(url)
        total += sum(v for (name, labels), v in samples.items()
                     if name == "kisekae_api_requests_total"
                     and ("operation", "GetImageRecipe") in labels)
    return total


def rebuild_answers(samples):
    """The image server app's answers on its rebuild route, all statuses."""
    return sum(v for (name, labels), v in samples.items()
               if name == "kisekae_image_requests_total" and ("route", "rebuild") in labels)


def toggle_item(site, user_id):
    """An item user_id can put on and take off (not of a required category),
    granted; None when the catalog has none among its first 100."""
    for item in as_list(site.service.ListItems(limit=100).item):
        site.service.GrantItem(userId=user_id, itemId=item.id)
        try:
            site.service.ChangeOutfit(userId=user_id, wear=[item.id])
            site.service.ChangeOutfit(userId=user_id, remove=[item.id])
        except Exception:          # a required category, or clashes with what is worn
            continue
        return item
    return None


def test_a_flood_of_misses_does_not_starve_the_api(env, site):
    public = env["KISEKAE_IMAGE_URLS"].split()[0].rstrip("/")
    internal = env["KISEKAE_IMAGE_INTERNAL_URLS"].split()[0].rstrip("/")
    member = unique("misses")
    created = site.service.CreateAvatar(userId=member, imageServer="img1")
    assert created.url.startswith(public + "/"), created.url
    item = toggle_item(site, member)
    assert item is not None, "no item of the sample catalog can be put on and taken off"
    # Versions far beyond the member's: each a 404 after one GetImageRecipe.
    head = created.url[:created.url.rindex("/") + 1]
    missing = ["%s%d.png" % (head, 100000 + i) for i in range(PATHS)]

    image_before = scrape(internal + "/metrics")
    recipes_before = recipe_calls(env)
    stop = time.monotonic() + FLOOD_S
    lock = threading.Lock()
    statuses, nginx_503, app_busy, nginx_body, errors = {}, [0], [0], [], []

    def flood(n):
        session = requests.Session()
        i = n
        while time.monotonic() < stop:
            try:
                response = session.get(missing[i % PATHS], timeout=scaled(10),
                                       allow_redirects=False)
            except requests.RequestException as e:
                errors.append(repr(e))
                return
            i += 1
            with lock:
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if (response.status_code == 503 and
                        response.headers.get("x-kisekae-placeholder") == NGINX_PLACEHOLDER):
                    nginx_503[0] += 1
                    if not nginx_body:
                        nginx_body.append(response)
                elif response.status_code == 503:      # the app's: max_rebuilds busy
                    app_busy[0] += 1

    threads = [threading.Thread(target=flood, args=(n,)) for n in range(FLOOD_THREADS)]
    for thread in threads:
        thread.start()
    calls, failures = 0, []
    wearing = False
    try:
        while time.monotonic() < stop:
            try:
                other = site.service.CreateAvatar(userId=unique("misses-new"), imageServer="img1")
                assert other.imageServer == "img1", other
                if wearing:
                    site.service.ChangeOutfit(userId=member, remove=[item.id])
                else:
                    site.service.ChangeOutfit(userId=member, wear=[item.id])
                wearing = not wearing
                calls += 2
            except Exception as e:   # the point: none may fail
                failures.append(repr(e)[:300])
    finally:
        for thread in threads:
            thread.join(timeout=scaled(30))
        time.sleep(REFILL_S)
    assert not any(t.is_alive() for t in threads), "a flood thread did not stop"
    image_after = scrape(internal + "/metrics")
    recipes = recipe_calls(env) - recipes_before

    answered = rebuild_answers(image_after) - rebuild_answers(image_before)
    hits = (value(image_after, "kisekae_image_miss_cache_hits_total") -
            value(image_before, "kisekae_image_miss_cache_hits_total"))
    sent = sum(statuses.values())
    print("flood: %d GETs %s, %d answered by the app (%d busy), %d from its memory, "
          "%d GetImageRecipe; site: %d calls, %d failed" % (
              sent, statuses, answered, app_busy[0], hits, recipes, calls, len(failures)))
    assert not errors, errors[:3]
    assert not failures, failures[:3]
    assert calls >= 2, "the site made no call during the flood"
    # nginx refused what went beyond its rate, without asking the app, with
    # the avatar placeholder (the canvas size, like the member's own image).
    assert nginx_503[0] > 0, statuses
    refused = nginx_body[0]
    assert refused.headers["Content-Type"] == "image/png", refused.headers
    assert "no-cache" in refused.headers.get("Cache-Control", ""), refused.headers
    own = Image.open(io.BytesIO(requests.get(created.url, timeout=scaled(10)).content))
    assert Image.open(io.BytesIO(refused.content)).size == own.size
    assert answered < sent, (answered, sent)
    # The app asked the API once per path (and per miss_cache_ms), give or
    # take the requests for one path that arrived together before the first
    # answer was remembered.
    rounds = int(scaled(FLOOD_S) // MISS_CACHE_S) + 2
    assert recipes <= PATHS * rounds + 2 * FLOOD_THREADS, (recipes, answered)
    # Every other answer of the app came from its memory, but those it
    # refused with 503 because max_rebuilds were busy (no recipe, no memory).
    assert hits > 0 and hits >= answered - recipes - app_busy[0] - 2 * FLOOD_THREADS, (
        hits, answered, recipes, app_busy[0])
    # Every miss the app answered was a 404 (from the API or from memory),
    # or a 503 of max_rebuilds.
    assert set(statuses) <= {404, 503}, statuses


def node_client(env, k=1):
    """imgK's own API client (role node), from its configuration file."""
    conf = Path(env["KISEKAE_STATE"]) / ("img%d" % k) / "kisekae-image.conf"
    values = dict(line.split(" ", 1) for line in conf.read_text().splitlines()
                  if line.strip() and not line.startswith("#"))
    return Api(env["KISEKAE_API_URLS"].split()[0], values["api_user"].strip(),
               values["api_password"].strip())


def replica_reads(env):
    samples = scrape(env["KISEKAE_API_METRICS_URLS"].split()[0])
    return sum(v for (name, labels), v in samples.items()
               if name == "kisekae_api_db_member_reads_total" and ("role", "replica") in labels)


CALLS = 20


def test_a_miss_reads_its_recipe_from_a_replica(env, site):
    node = node_client(env)
    member = unique("misses-replica")
    created = site.service.CreateAvatar(userId=member, imageServer="img1")
    # the replica has the member (a miss for a version it knows)
    deadline = time.monotonic() + scaled(10)
    while True:
        before = replica_reads(env)
        recipe = node.service.GetImageRecipe(userId=member, minVersion=created.version)
        if replica_reads(env) > before or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert recipe.version == created.version

    before = replica_reads(env)
    for _ in range(CALLS):
        recipe = node.service.GetImageRecipe(userId=member, minVersion=created.version)
        assert (recipe.version, recipe.imageServer) == (created.version, "img1")
    from_replica = replica_reads(env) - before
    before = replica_reads(env)
    for _ in range(CALLS):
        assert node.service.GetImageRecipe(userId=member).version == created.version
    without = replica_reads(env) - before
    print("replica reads: %d for %d recipes with minVersion, %d for %d without"
          % (from_replica, CALLS, without, CALLS))
    assert from_replica >= 2 * CALLS, from_replica        # the member, its layers, its server
    assert without < CALLS, without                       # the master answered those

    # A version the replica does not know (nor the master): the master
    # answers with the current one, and a bad minVersion is refused.
    recipe = node.service.GetImageRecipe(userId=member, minVersion=created.version + 5)
    assert recipe.version == created.version
    assert node.fault("GetImageRecipe", userId=member, minVersion=0).code == "InvalidArgument"
    assert node.fault("GetImageRecipe", userId=unique("nobody"),
                      minVersion=1).code == "NotFound"
