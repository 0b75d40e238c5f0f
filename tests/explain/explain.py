#!/usr/bin/python3
"""explain.py: EXPLAIN every statement the API sent; fail on a full scan of a large table.

    explain.py --state STATE_DIR [--min-rows N] [--min-statements N]

Reads the general log (log_output TABLE, mysql.general_log) of the stack's
MariaDB master and replicas (STATE_DIR/stack.conf names the database folder),
keeps the statements the API's database user sent (SELECT, UPDATE, DELETE,
INSERT ... SELECT, also under SET STATEMENT ... FOR), folds those that differ
only in their literals (numbers, strings, IN lists) into one, and EXPLAINs
one of each on the master. A statement fails when a plan row reads one of
the large tables (LARGE below: what grows with the members) by a full table
scan (type ALL) or a full index scan (type index) of at least N rows
(default 1000; the test seeds more than that in each). A statement MariaDB
cannot EXPLAIN fails too. Prints every statement checked with its plan
summary, then each failure with the whole plan; exits 1 on any failure or
when fewer than --min-statements (default 40) distinct statements were seen
(the run did not exercise the API).
"""

import argparse
import os
import re
import subprocess
import sys

LARGE = {"members", "inventory", "outfit", "album_photos", "album_photo_members",
         "album_photo_layers", "render_queue", "image_deletions", "member_tombstones",
         "webhook_events", "webhook_deliveries"}
KEYWORDS = {"where", "on", "join", "left", "right", "inner", "cross", "straight_join", "set",
            "order", "group", "limit", "for", "using", "union", "natural", "having", "values",
            "select", "and", "or", "as", "use", "force", "ignore", "lock", "window"}


def conf_value(state, key):
    with open(os.path.join(state, "stack.conf")) as f:
        for line in f:
            if line.startswith(key + "="):
                return line.split("=", 1)[1].strip().strip("'\"")
    sys.exit("explain.py: no %s in %s/stack.conf" % (key, state))


def client(db_dir, instance):
    return ["mariadb", "--defaults-file=%s" % os.path.join(db_dir, instance, "my.cnf"),
            "kisekae", "-B"]


def run(db_dir, instance, sql):
    """(ok, header, rows, error) of one statement in a client of its own."""
    p = subprocess.run(client(db_dir, instance) + ["-e", sql], capture_output=True, text=True)
    if p.returncode != 0:
        return False, [], [], p.stderr.strip()
    lines = p.stdout.splitlines()
    if not lines:
        return True, [], [], ""
    return True, lines[0].split("\t"), [line.split("\t") for line in lines[1:]], ""


def logged_statements(db_dir, instance):
    ok, _, rows, error = run(db_dir, instance,
                             "SELECT HEX(argument) FROM mysql.general_log WHERE command_type IN "
                             "('Query', 'Execute') AND user_host LIKE 'kisekae[%'")
    if not ok:
        sys.exit("explain.py: reading the general log of %s: %s" % (instance, error))
    return [bytes.fromhex(r[0]).decode("utf-8", "replace") for r in rows if r and r[0]]


def explainable(statement):
    """The statement to EXPLAIN (without a SET STATEMENT prefix), or None."""
    s = statement.strip().rstrip(";")
    m = re.match(r"(?is)SET\s+STATEMENT\s+.*?\s+FOR\s+(.*)$", s)
    if m:
        s = m.group(1).strip()
    head = s.split(None, 1)[0].upper() if s else ""
    if head in ("SELECT", "UPDATE", "DELETE") or (
            head in ("INSERT", "REPLACE") and re.search(r"(?i)\bSELECT\b", s)):
        if re.fullmatch(r"(?i)SELECT\s+[\w@.(),\s]*", s) and not re.search(r"(?i)\bFROM\b", s):
            return None                 # SELECT 1, SELECT @@x, SELECT LAST_INSERT_ID()
        return s
    return None


def shape(statement):
    s = re.sub(r"'(?:[^'\\]|\\.|'')*'", "?", statement)
    s = re.sub(r"(?i)\bx'[0-9a-f]*'|\b0x[0-9a-f]+\b", "?", s)
    s = re.sub(r"\b\d+(?:\.\d+)?\b", "?", s)
    s = re.sub(r"\(\s*\?(?:\s*,\s*\?)*\s*\)", "(?)", s)
    s = re.sub(r"\((?:\s*\(\?\)\s*,?)+\)", "(?)", s)
    return re.sub(r"\s+", " ", s).strip()


def aliases(statement):
    """alias or table name -> table, from FROM/JOIN/UPDATE/INTO clauses."""
    out = {}
    for m in re.finditer(r"(?i)\b(?:FROM|JOIN|UPDATE|INTO)\s+`?(\w+)`?(?:\s+(?:AS\s+)?`?(\w+)`?)?",
                         statement):
        table, alias = m.group(1), m.group(2)
        out[table] = table
        if alias and alias.lower() not in KEYWORDS:
            out[alias] = table
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--state", required=True)
    parser.add_argument("--min-rows", type=int, default=1000)
    parser.add_argument("--min-statements", type=int, default=40)
    args = parser.parse_args()
    db_dir = conf_value(args.state, "KS_DB_DIR")
    instances = sorted(d for d in os.listdir(db_dir) if re.fullmatch(r"db-(m|r\d+)", d))

    seen = {}
    for instance in instances:
        for statement in logged_statements(db_dir, instance):
            s = explainable(statement)
            if s is not None:
                seen.setdefault(shape(s), s)
    failures = []
    for key in sorted(seen):
        statement = seen[key]
        ok, header, rows, error = run(db_dir, "db-m", "EXPLAIN " + statement)
        if not ok:
            failures.append((statement, "EXPLAIN failed: " + error))
            print("ERROR  %s" % key[:160])
            continue
        col = {name: i for i, name in enumerate(header)}
        names = aliases(statement)
        scans, summary = [], []
        for row in rows:
            table = row[col["table"]]
            kind, count = row[col["type"]], row[col["rows"]]
            real = names.get(table, table)
            summary.append("%s:%s" % (real, kind))
            n = int(count) if count.isdigit() else 0
            if real in LARGE and kind in ("ALL", "index") and n >= args.min_rows:
                scans.append("%s (%s) type=%s rows=%s" % (real, table, kind, count))
        print("%s  %s  [%s]" % ("SCAN " if scans else "ok   ", key[:160], " ".join(summary)))
        if scans:
            plan = "\n".join("    " + "\t".join(r) for r in [header] + rows)
            failures.append((statement, "full scan of %s\n%s" % (", ".join(scans), plan)))
    print("explain: %d distinct statements from %s, %d failed" % (
        len(seen), ", ".join(instances), len(failures)))
    for statement, why in failures:
        print("FAIL: %s\n  statement: %s" % (why, statement[:2000]))
    if len(seen) < args.min_statements:
        print("FAIL: only %d distinct statements in the general log (at least %d expected)"
              % (len(seen), args.min_statements))
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
