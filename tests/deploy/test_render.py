"""deploy/render.py, the one renderer of the launcher's and the tests'
configs (ctest deploy_render): the template syntax, the variables on stdin,
and the writes (atomic, only when changed, with their mode from the start).
The configs rendered with a stack's variables are checked by the programs
they are for in tests/deploy/test_stack.py (the stack model)."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RENDER = ROOT / "deploy" / "render.py"
sys.path.insert(0, str(ROOT / "deploy"))
import render  # noqa: E402
import stackenv  # noqa: E402


def template(tmp_path, text):
    path = tmp_path / "t.tmpl"
    path.write_text(text)
    return str(path)


def test_values_lists_records_and_conditions(tmp_path):
    t = template(tmp_path, "{{! a comment\n  over lines }}\nname {{name}}\n{{#items}}\n"
                 "item {{.}}\n{{/items}}\n{{#servers}}\nserver {{port}}{{#down}} down{{/down}};\n"
                 "{{/servers}}\n{{#flag}}\nflag on\n{{/flag}}\n{{^flag}}\nflag off\n{{/flag}}\n")
    text = render.render(t, {"name": "x", "items": ["a b", "c"], "flag": "",
                             "servers": ["port=1 down=", "port=2 down=1"]})
    assert text == "name x\nitem a b\nitem c\nserver 1;\nserver 2 down;\nflag off\n"


def test_shell_quoting_reads_back(tmp_path):
    t = template(tmp_path, "A={{a|sh}}\nB={{b|sh}}\n")
    out = tmp_path / "env"
    out.write_text(render.render(t, {"a": "it's $HOME `x`", "b": "http://h:1/?wsdl"}))
    assert stackenv.read_env_file(out) == {"A": "it's $HOME `x`", "B": "http://h:1/?wsdl"}
    done = subprocess.run(["bash", "-c", '. "$0"; printf "%s|%s" "$A" "$B"', str(out)],
                          stdout=subprocess.PIPE, text=True, check=True)
    assert done.stdout == "it's $HOME `x`|http://h:1/?wsdl"


@pytest.mark.parametrize("text, error", [
    ("{{missing}}", "no variable 'missing'"),
    ("{{#a}}x", "{{#a}} is not closed"),
    ("x{{/a}}", "{{/a}} closes no open section"),
    ("{{a|upper}}", "unknown filter |upper"),
])
def test_template_errors(tmp_path, text, error):
    with pytest.raises(render.TemplateError, match=error.replace("{", r"\{").replace("|", r"\|")):
        render.render(template(tmp_path, text), {"a": "1"})


def run(args, stdin):
    return subprocess.run([sys.executable, str(RENDER), *args], input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_command_writes_only_changes_with_its_mode(tmp_path):
    t = template(tmp_path, "secret {{s}}\n")
    out = tmp_path / "out.conf"
    first = run([t, str(out), "--mode", "0600", "--keep-vars"], "s=one\n")
    assert first.returncode == 0, first.stderr
    assert out.read_text() == "secret one\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert render.load_vars(out) == {"s": "one"}
    inode = out.stat().st_ino
    assert run([t, str(out), "--mode", "0600"], "s=one\n").returncode == 3   # up to date
    assert out.stat().st_ino == inode
    assert run([t, str(out), "--mode", "0600"], "s=two\n").returncode == 0
    assert out.read_text() == "secret two\n"
    assert sorted(os.listdir(tmp_path)) == ["out.conf", "out.conf.vars", "t.tmpl"]   # no temporary left


def test_command_refuses_bad_input(tmp_path):
    t = template(tmp_path, "{{s}}\n")
    out = tmp_path / "out"
    bad = run([t, str(out)], "not a variable line\n")
    assert bad.returncode == 2 and "not NAME=VALUE" in bad.stderr
    assert run([t, str(out), "--mode", "rw"], "s=1\n").returncode == 2
    assert run([t], "").returncode == 2
    assert not out.exists()


def test_env_file_variables_and_absent_sections(tmp_path):
    t = template(tmp_path, "{{A}} {{b}}{{#C}} C={{.}}{{/C}}{{^D}} no D{{/D}}\n")
    env = tmp_path / "stack.env"
    env.write_text("# a stack.env\nA='from env'\nb=overridden\n")
    done = run([t, "-", "--env", str(env)], "b=from stdin\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "from env from stdin no D\n"
