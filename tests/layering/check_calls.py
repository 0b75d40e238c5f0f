#!/usr/bin/python3
"""Checks that the api-server's files call one way (STYLE.md, "Layers call one way").

Reads the object files of kisekae-api with `nm`, builds the file-level graph
"file A references a symbol that file B defines", and
  - FAILS (exit 1) on any cycle between files, printing each cycle it finds;
  - REPORTS (does not fail) every reference that goes up the intended order:
      main -> standalone/fastcgi -> dispatch (auth, routing) -> op_* handlers
      and http_avatar -> services -> store* -> common/.
Symbols defined outside api-server (common/, gSOAP, libc) are not part of the
graph. A file the layer table below does not know is reported and treated as
a service.

usage: check_calls.py OBJECT...   (kisekae-api's object files; ctest passes
       $<TARGET_OBJECTS:kisekae-api>, as one ;-separated list or several
       arguments; those outside api-server/ are left out)
"""
import os
import subprocess
import sys

# The intended order, top first: a file may reference only files of a later
# layer (or of its own, as long as no cycle forms). auth.c is with the
# services: dispatch routes, and each handler checks its roles with
# ks_auth_require; migrate.c is the job main runs before serving;
# api_metrics.c counts what dispatch and the services see, and reads the store.
LAYERS = [
    ("main", ["main"]),
    ("transport", ["standalone", "fastcgi"]),
    ("dispatch", ["dispatch"]),
    ("handlers", ["op_*", "http_avatar"]),
    ("services", ["render", "album", "node_health", "replicate", "avatar_read",
                  "deletion", "image_client", "reply", "fault", "auth", "migrate",
                  "api_metrics"]),
    ("store", ["store*"]),
    ("logic", ["assign"]),
]


def layer_of(name):
    for rank, (_, patterns) in enumerate(LAYERS):
        for p in patterns:
            if (p.endswith("*") and name.startswith(p[:-1])) or name == p:
                return rank
    return None


def symbols(path):
    """Returns (defined, undefined) global symbol names of one object file."""
    out = subprocess.run(["nm", "-g", path], check=True, capture_output=True,
                         text=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRVWCGS":
            defined.add(parts[2])
    return defined, undefined


def find_cycles(graph):
    """Every elementary cycle reachable by a depth-first search, each reported
    once (rotated to start at its smallest file)."""
    seen, cycles = set(), []
    nodes = sorted(graph)

    def walk(start, node, path, on_path):
        for nxt in sorted(graph[node]):
            if nxt == start:
                key = tuple(path)
                i = key.index(min(key))
                key = key[i:] + key[:i]
                if key not in seen:
                    seen.add(key)
                    cycles.append(list(key))
            elif nxt not in on_path and nxt > start:
                on_path.add(nxt)
                path.append(nxt)
                walk(start, nxt, path, on_path)
                path.pop()
                on_path.discard(nxt)

    for s in nodes:
        walk(s, s, [s], {s})
    return cycles


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip().split("\n\n")[-1], file=sys.stderr)
        return 0 if len(argv) == 2 else 2
    objs = sorted(o for a in argv[1:] for o in a.split(";")
                  if o.endswith(".c.o") and os.path.basename(os.path.dirname(o)) == "api-server")
    if not objs:
        print("check_calls: no object file of api-server/ given", file=sys.stderr)
        return 2
    defs, uses = {}, {}
    owner = {}
    for f in objs:
        name = os.path.basename(f)[:-len(".c.o")]
        d, u = symbols(f)
        defs[name], uses[name] = d, u
        for s in d:
            owner[s] = name
    graph = {n: set() for n in defs}
    via = {}
    for n, u in uses.items():
        for s in sorted(u):
            o = owner.get(s)
            if o and o != n:
                graph[n].add(o)
                via.setdefault((n, o), []).append(s)

    for n in sorted(defs):
        if layer_of(n) is None:
            print(f"note: {n}.c is in no layer of tests/layering/check_calls.py")

    ups = []
    for (a, b), syms in sorted(via.items()):
        la, lb = layer_of(a), layer_of(b)
        la = len(LAYERS) - 2 if la is None else la
        lb = len(LAYERS) - 2 if lb is None else lb
        if lb < la:
            ups.append((a, b, syms))
    print(f"{len(ups)} reference(s) up the intended order (reported, not failed)"
          + (":" if ups else ""))
    if ups:
        for a, b, syms in ups:
            print(f"  {a}.c ({LAYERS[layer_of(a) or 0][0]}) -> {b}.c "
                  f"({LAYERS[layer_of(b) or 0][0]}): {', '.join(syms)}")

    cycles = find_cycles(graph)
    if cycles:
        print(f"FAIL: {len(cycles)} call cycle(s) between api-server files:")
        for c in cycles:
            steps = []
            for a, b in zip(c, c[1:] + c[:1]):
                steps.append(f"{a}.c -[{', '.join(via[(a, b)])}]->")
            print("  " + " ".join(steps) + f" {c[0]}.c")
        return 1
    print(f"ok: {len(defs)} files, {sum(len(v) for v in graph.values())} "
          "file-to-file references, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
