"""deploy/stackenv.py: reads the shell-syntax files `./kisekae up` writes
(STATE/stack.env, STATE/stack.conf) for the Python tests, benchmarks and
samples; bash sources them directly.

    sys.path.insert(0, str(ROOT / "deploy"))
    from stackenv import read_env_file
"""

import shlex


def read_env_file(path):
    """{KEY: value} of the KEY=value words of a shell-syntax file: quotes,
    `export` and comments as a shell reads them (no expansions)."""
    values = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            try:
                words = shlex.split(line, comments=True)
            except ValueError as e:
                raise ValueError("%s:%d: %s" % (path, number, e)) from None
            if words and words[0] == "export":
                words = words[1:]
            for word in words:
                key, sep, value = word.partition("=")
                if sep and key.replace("_", "").isalnum():
                    values[key] = value
    return values
