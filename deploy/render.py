#!/usr/bin/python3
"""deploy/render.py: renders one template of deploy/templates/ into a file.

The launcher (`./kisekae`) writes every config of a stack with it, and the
tests that start servers of their own use it too (import render), so a config
is written in one way, from one template.

    render.py TEMPLATE OUTPUT [--mode 0600] [--keep-vars] [--env FILE] < VARIABLES
    render.py TEMPLATE - [--env FILE]                                  < VARIABLES

TEMPLATE is a name under deploy/templates/ (or a path). VARIABLES come on
stdin, never on the command line (they hold passwords, and every user sees
argv): one NAME=VALUE per line; a NAME given on several lines is a list.
--env FILE adds the KEY=value words of a shell-syntax file (a stack.env).
OUTPUT is written atomically with MODE (default 0644) from the start, and
only when its text changed; --keep-vars also keeps the variables in
OUTPUT.vars (same format and mode) for a test that renders it again with a
few changed. `-` prints to stdout. Exit status: 0 written, 3 already up to
date, 2 bad usage or template, 1 another error.

Template syntax (a small subset of Mustache):
    {{name}}            the value (a list's items joined by newlines)
    {{name|sh}}         the value quoted for a POSIX shell
    {{#name}}..{{/name}} once per non-empty item of name; inside, {{.}} is the
                        item, and an item of NAME=VALUE words is a record
                        whose fields are variables ({{port}})
    {{^name}}..{{/name}} once when name has no non-empty item
    {{! comment }}      nothing
A line holding only a section tag or a comment leaves no line behind. A
section over a variable not given is empty; a value not given is an error.
"""

import os
import re
import shlex
import sys
import tempfile
from pathlib import Path

from stackenv import read_env_file

TEMPLATES = Path(__file__).resolve().parent / "templates"
UNCHANGED = 3

_COMMENT = r"\{\{!(?:(?!\}\}).)*\}\}"
_STANDALONE = re.compile(r"^[ \t]*(%s|\{\{[#^/][^}]*\}\})[ \t]*\n" % _COMMENT, re.M | re.S)
_TAG = re.compile(r"%s|\{\{([#^/]?)\s*([^}|]*?)\s*(?:\|\s*(\w+)\s*)?\}\}" % _COMMENT, re.S)


class TemplateError(Exception):
    pass


def _parse(text, name):
    """The template as a tree: strings, ("var", name, filter) and
    ("section", name, inverted, children)."""
    text = _STANDALONE.sub(r"\1", text)
    root, stack, pos = [], [], 0
    children = root
    for m in _TAG.finditer(text):
        children.append(text[pos:m.start()])
        pos = m.end()
        kind, var, filt = m.group(1), m.group(2), m.group(3)
        if m.group(0).startswith("{{!"):
            continue
        if kind in ("#", "^"):
            section = ("section", var, kind == "^", [])
            children.append(section)
            stack.append((var, children))
            children = section[3]
        elif kind == "/":
            if not stack or stack[-1][0] != var:
                raise TemplateError("%s: {{/%s}} closes no open section" % (name, var))
            children = stack.pop()[1]
        else:
            if filt not in (None, "sh"):
                raise TemplateError("%s: unknown filter |%s" % (name, filt))
            children.append(("var", var, filt))
    if stack:
        raise TemplateError("%s: {{#%s}} is not closed" % (name, stack[-1][0]))
    children.append(text[pos:])
    return root


def _lookup(scopes, var, name, missing=None):
    for scope in reversed(scopes):
        if var in scope:
            value = scope[var]
            return value if isinstance(value, list) else [value]
    if missing is not None:
        return missing
    raise TemplateError("%s: no variable %r" % (name, var))


def _record(item):
    words = item.split()
    if words and all("=" in w and w.split("=", 1)[0].isidentifier() for w in words):
        return dict(w.split("=", 1) for w in words)
    return {}


def _render(tree, scopes, name, out):
    for node in tree:
        if isinstance(node, str):
            out.append(node)
        elif node[0] == "var":
            value = "\n".join(str(v) for v in _lookup(scopes, node[1], name))
            out.append(shlex.quote(value) if node[2] == "sh" else value)
        else:
            items = [str(v) for v in _lookup(scopes, node[1], name, []) if str(v) != ""]
            if node[2]:
                if not items:
                    _render(node[3], scopes, name, out)
                continue
            for item in items:
                _render(node[3], scopes + [{".": item, **_record(item)}], name, out)


def render(template, variables):
    """The text of template (a name under deploy/templates/ or a path) with
    variables ({name: str or list of str}); raises TemplateError."""
    path = Path(template) if "/" in str(template) else TEMPLATES / template
    out = []
    _render(_parse(path.read_text(), path.name), [variables], path.name, out)
    return "".join(out)


def read_vars(lines):
    """{name: value or [values]} of NAME=VALUE lines (a repeated name is a list)."""
    variables = {}
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.isidentifier():
            raise TemplateError("variables: %r is not NAME=VALUE" % line)
        if key in variables:
            old = variables[key]
            variables[key] = (old if isinstance(old, list) else [old]) + [value]
        else:
            variables[key] = value
    return variables


def format_vars(variables):
    """The NAME=VALUE lines of variables (read_vars' input)."""
    lines = []
    for key, value in variables.items():
        for item in (value if isinstance(value, list) else [value]):
            lines.append("%s=%s\n" % (key, item))
    return "".join(lines)


def write_if_changed(path, text, mode=0o644):
    """Writes text to path atomically with mode when it differs; returns
    True when the file changed."""
    path = Path(path)
    if path.exists() and path.read_text() == text:
        os.chmod(path, mode)
        return False
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=path.name + ".")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def render_file(template, output, variables, mode=0o644, keep_vars=False):
    """Renders template into output (see write_if_changed); keep_vars also
    writes output.vars. Returns True when output changed."""
    changed = write_if_changed(output, render(template, variables), mode)
    if keep_vars:
        write_if_changed(str(output) + ".vars", format_vars(variables), mode)
    return changed


def load_vars(output):
    """The variables output was rendered with (render_file keep_vars)."""
    with open(str(output) + ".vars") as f:
        return read_vars(f)


def main(argv):
    args, mode, keep_vars, env_files = [], 0o644, False, []
    it = iter(argv)
    for arg in it:
        if arg in ("-h", "--help"):
            print(__doc__.split("\n\n", 1)[1].split("Template syntax")[0].rstrip())
            return 0
        if arg == "--mode":
            value = next(it, "")
            if not re.fullmatch(r"[0-7]{3,4}", value):
                print("render.py: --mode needs an octal mode such as 0600", file=sys.stderr)
                return 2
            mode = int(value, 8)
        elif arg == "--env":
            env_files.append(next(it, ""))
        elif arg == "--keep-vars":
            keep_vars = True
        else:
            args.append(arg)
    if len(args) != 2:
        print("usage: render.py TEMPLATE OUTPUT|- [--mode MODE] [--keep-vars] [--env FILE] < VARIABLES",
              file=sys.stderr)
        return 2
    try:
        variables = {}
        for path in env_files:
            variables.update(read_env_file(path))
        variables.update(read_vars(sys.stdin))
        if args[1] == "-":
            sys.stdout.write(render(args[0], variables))
            return 0
        return 0 if render_file(args[0], args[1], variables, mode, keep_vars) else UNCHANGED
    except (TemplateError, OSError, ValueError) as e:
        print("render.py: %s" % e, file=sys.stderr)
        return 1 if isinstance(e, OSError) else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
