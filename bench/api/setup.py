#!/usr/bin/python3
"""setup.py: the members bench/api/run.sh drives, created through the SOAP API.

    setup.py --env STACK_ENV --members N --out FILE

Creates the members bench-1 .. bench-N (CreateAvatar; an existing one is kept)
and writes FILE with one line per member: "USER_ID ITEM_ID", where ITEM_ID is
an item the member wears (one of the defaults every new member gets), which
ChangeOutfit can wear again: every such call still makes a new version that
the image server composes. Exits 1 with the failed call on an error.
"""

import argparse
import os
import shlex
import sys
import warnings

warnings.filterwarnings("ignore", message="'cgi' is deprecated", category=DeprecationWarning)
import requests  # noqa: E402
import zeep  # noqa: E402
import zeep.exceptions  # noqa: E402
from zeep.transports import Transport  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINDING = "{urn:kisekae:v1}Kisekae"


def read_env(path):
    values = {}
    with open(path) as f:
        for line in f:
            for word in shlex.split(line, comments=True):
                key, sep, value = word.partition("=")
                if sep:
                    values[key] = value
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    env = read_env(args.env)
    session = requests.Session()
    session.auth = (env["KISEKAE_SITE_USER"], env["KISEKAE_SITE_PASSWORD"])
    client = zeep.Client(os.path.join(ROOT, "wsdl", "Kisekae.wsdl"),
                         transport=Transport(session=session, timeout=60))
    api = client.create_service(BINDING, env["KISEKAE_API_URL"])
    lines = []
    for k in range(1, args.members + 1):
        user_id = "bench-%d" % k
        try:
            avatar = api.CreateAvatar(userId=user_id)
        except zeep.exceptions.Fault:
            avatar = api.GetAvatar(userId=user_id, minVersion=1)
        worn = list(avatar.wornItemId or [])
        if not worn:
            sys.exit("setup.py: member %s wears nothing; the catalog needs a required "
                     "category with a default item" % user_id)
        lines.append("%s %d\n" % (user_id, worn[0]))
    with open(args.out, "w") as f:
        f.writelines(lines)
    print("setup.py: %d members ready" % len(lines), file=sys.stderr)


if __name__ == "__main__":
    main()
