"""kisekae-image's configuration check (`--check`) refuses a cluster_secret
that protects nothing: the sample's "change-me", an empty or a short one
(under 16 characters), and accepts a real one. It refuses rebuilds and
batches that could hold every FastCGI thread (public misses would starve
the API's composes on /internal/), and the defaults leave two threads.

ctest (cli/compose) runs it with KISEKAE_IMAGE pointing at the built binary.
"""

import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE = os.environ.get("KISEKAE_IMAGE", os.path.join(HERE, "..", "..", "build",
                                                     "kisekae-image"))


def check(tmp_path, secret, *lines):
    conf = tmp_path / "kisekae-image.conf"
    conf.write_text("listen 127.0.0.1:1\nstore %s\ncluster_secret %s\n" % (
        tmp_path / "store", secret) + "".join(line + "\n" for line in lines))
    return subprocess.run([IMAGE, "-c", str(conf), "--check"], capture_output=True, text=True,
                          timeout=30)


@pytest.mark.parametrize("secret", ["change-me", "short", "fifteen-chars-x"])
def test_weak_secrets_are_refused(tmp_path, secret):
    done = check(tmp_path, secret)
    assert done.returncode != 0, "cluster_secret %r accepted: %s" % (secret, done.stderr)
    assert "cluster_secret" in done.stderr, done.stderr


def test_a_real_secret_is_accepted(tmp_path):
    done = check(tmp_path, "0123456789abcdef0123456789abcdef")
    assert done.returncode == 0, done.stderr


REAL = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("lines", [
    ("threads 4",),                                   # the defaults 4 + 2 need 8
    ("threads 6", "max_rebuilds 4", "max_batches 1"),
    ("threads 8", "max_rebuilds 6", "max_batches 1"),
    ("threads 3", "max_rebuilds 1", "max_batches 1"),
])
def test_rebuilds_and_batches_must_leave_threads_to_internal(tmp_path, lines):
    done = check(tmp_path, REAL, *lines)
    assert done.returncode != 0, "%s accepted" % (lines,)
    assert "max_rebuilds" in done.stderr and "/internal/" in done.stderr, done.stderr


@pytest.mark.parametrize("lines", [
    (),                                               # threads 8, max_rebuilds 4, max_batches 2
    ("threads 4", "max_rebuilds 1", "max_batches 1"),
])
def test_rebuild_capacity_that_leaves_two_threads_is_accepted(tmp_path, lines):
    done = check(tmp_path, REAL, *lines)
    assert done.returncode == 0, done.stderr
