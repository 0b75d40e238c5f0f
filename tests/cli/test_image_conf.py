"""kisekae-image's configuration check (`--check`) refuses a cluster_secret
that protects nothing: the sample's "change-me", an empty or a short one
(under 16 characters), and accepts a real one.

ctest (cli/compose) runs it with KISEKAE_IMAGE pointing at the built binary.
"""

import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE = os.environ.get("KISEKAE_IMAGE", os.path.join(HERE, "..", "..", "build",
                                                     "kisekae-image"))


def check(tmp_path, secret):
    conf = tmp_path / "kisekae-image.conf"
    conf.write_text("listen 127.0.0.1:1\nstore %s\ncluster_secret %s\n" % (
        tmp_path / "store", secret))
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
