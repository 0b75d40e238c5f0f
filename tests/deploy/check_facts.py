#!/usr/bin/python3
"""check_facts.py: the facts that files shipped as they are copy from their
sources still match them (ctest deploy_facts). The sources: the operations
marked `// @resendable` in wsdl/kisekae.h (the build's gen/resendable.txt)
and the TooLarge fault envelope of `kisekae-api --fault-xml`. The copies:
deploy/nginx's static snippets (the resendable map, the TooLarge answer),
and the RESENDABLE lists of the sample client libraries (samples/python,
samples/php), which hold the site's operations only, so each of them must
be marked.

usage: check_facts.py KISEKAE_API RESENDABLE_TXT SNIPPETS_DIR SAMPLES_DIR
Prints what differs and exits 1; exits 0 when all match.
"""
import re
import subprocess
import sys


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    api, resendable_txt, snippets, samples = sys.argv[1:]
    failures = []

    with open(resendable_txt) as f:
        want = [line.strip() for line in f if line.strip()]
    with open(snippets + "/kisekae-api-http.conf") as f:
        http = f.read()
    m = re.search(r'urn:kisekae:v1#\(([A-Za-z|]+)\)', http)
    got = m.group(1).split("|") if m else []
    if sorted(got) != sorted(want):
        failures.append("kisekae-api-http.conf: the $kisekae_resendable map lists %s; "
                        "wsdl/kisekae.h marks %s" % ("|".join(got), "|".join(want)))

    with open(snippets + "/kisekae-api-locations.conf") as f:
        locations = f.read()
    m = re.search(r"location @kisekae_too_large \{.*?return 500 '(.*?)';", locations, re.S)
    limit = re.search(r"^client_max_body_size (\S+);", locations, re.M)
    if not m or not limit:
        failures.append("kisekae-api-locations.conf: no @kisekae_too_large answer "
                        "or no client_max_body_size")
    else:
        reason = "request body over the %s limit (max_request_bytes)" % limit.group(1)
        fault = subprocess.run([api, "--fault-xml", "TooLarge", reason], check=True,
                               capture_output=True, text=True).stdout.rstrip("\n")
        if m.group(1) != fault:
            failures.append("kisekae-api-locations.conf: @kisekae_too_large answers\n%s\n"
                            "kisekae-api --fault-xml TooLarge '%s' prints\n%s"
                            % (m.group(1), reason, fault))
    for path, pattern in (("python/kisekae/client.py", r"RESENDABLE = frozenset\(\{(.*?)\}\)"),
                          ("php/src/Client.php", r"const RESENDABLE = \[(.*?)\];")):
        with open(samples + "/" + path) as f:
            m = re.search(pattern, f.read(), re.S)
        listed = re.findall(r"[\"']([A-Za-z]+)[\"']", m.group(1)) if m else []
        unmarked = sorted(set(listed) - set(want))
        if not listed or unmarked:
            failures.append("samples/%s: RESENDABLE %s" % (
                path, "not found" if not listed else
                "lists %s, not marked // @resendable in wsdl/kisekae.h" % ", ".join(unmarked)))
    for failure in failures:
        print(failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
