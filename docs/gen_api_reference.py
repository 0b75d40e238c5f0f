#!/usr/bin/python3
"""gen_api_reference.py: docs/api-reference.md, generated from wsdl/kisekae.h.

The header is the source of truth of the API: its comments become the text of
the reference. For every operation (`int ks__Op(...);`) the reference gives its
role (the "site:", "admin:" or "node:" that starts its comment), its request and
response fields (name, type, required or optional from the `1`/`0` occurrence),
the limits and fault codes its comments state, and an example in PHP, Python
and JavaScript:

- a site operation takes its example from the sample libraries
  (samples/php, samples/python, samples/node): the method that README's table
  maps to the operation, called as the sample's walkthrough calls it;
- otherwise the example is rendered from EXAMPLES below (the arguments of one
  call) for each language's plain SOAP client (PHP SoapClient, zeep, the npm
  soap package), as the main README's client snippets build them;
- an operation in neither says "no example yet" (and --check lists it).

Nothing here names an operation outside EXAMPLES: an operation written in the
header's style is documented as it is added. The output depends only on the
header, the samples and this file (no dates, no machine paths), so the ctest
`docs_drift` can compare it with the checked-in copy.

  gen_api_reference.py [--root DIR] [-o FILE]    write the reference (default stdout)
  gen_api_reference.py [--root DIR] --check FILE exit 1 when FILE differs from it
"""
import argparse
import difflib
import os
import re
import sys

HEADER = "wsdl/kisekae.h"
ROLES = ("site", "admin", "node")
FAULT_CODES = ("NotFound", "InvalidArgument", "NotOwned", "Conflict", "Unauthorized",
               "Forbidden", "TooLarge", "ImageServerUnavailable", "DatabaseUnavailable",
               "Internal")

# ---- the header -------------------------------------------------------------------------


class Field:
    """One element of a request or a struct: name, type, occurrence, comment."""

    def __init__(self, name, ctype, pointers, min_occurs, is_list, comment):
        self.name = name
        self.ctype = ctype              # "char", "int", "struct ks__Avatar"...
        self.pointers = pointers        # stars after the type (not counting a list's)
        self.min_occurs = min_occurs
        self.is_list = is_list
        self.comment = comment

    @property
    def required(self):
        return self.min_occurs > 0

    def type_name(self):
        """The XML Schema type as a client author sees it."""
        t = self.ctype
        if t == "char":
            name = "string"
        elif t in ("int", "LONG64", "time_t"):
            name = {"int": "int", "LONG64": "long", "time_t": "dateTime"}[t]
        elif t == "enum xsd__boolean":
            name = "boolean"
        elif t == "struct xsd__base64Binary":
            name = "base64Binary"
        elif t.startswith("struct ks__"):
            name = t[len("struct ks__"):]
        elif t.startswith("enum ks__"):
            name = t[len("enum ks__"):]
        else:
            name = t
        return name

    def ks_struct(self):
        """The ks__ struct this field holds, or None."""
        return self.ctype[len("struct "):] if self.ctype.startswith("struct ks__") else None


class Struct:
    def __init__(self, name, comment, fields):
        self.name = name                # "ks__Avatar"
        self.comment = comment
        self.fields = fields


class Operation:
    def __init__(self, name, comment, fields, response):
        self.name = name                # "ChangeOutfit"
        self.comment = comment
        self.fields = fields
        self.response = response        # the struct name of the response
        m = re.match(r"\s*((?:site|admin|node)(?:\s*(?:,|/|\band\b)\s*(?:site|admin|node))*)"
                     r"\s*:\s*", comment or "")
        self.roles = re.findall(r"site|admin|node", m.group(1)) if m else []
        self.role = self.roles[0] if m else None         # the section it is listed in
        self.role_text = ", ".join(self.roles) if m else None
        self.text = comment[m.end():] if m else (comment or "")


TOKEN = re.compile(r"/\*.*?\*/|//[^\n]*|\{|\}|\(|\)|;|,|\n|[^\s/{}();,]+|[ \t]+|/",
                   re.S)


def clean_comment(raw):
    """The text of a /* */ comment: stars and indentation gone, lines kept."""
    body = raw[2:-2]
    lines = []
    for line in body.split("\n"):
        line = re.sub(r"^\s*\*( |$)", "", line.rstrip())
        lines.append(line.strip() if not line.lstrip().startswith("- ") else line.strip())
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


FIELD = re.compile(r"^(?P<type>(?:struct |enum )?\w+)\s*(?P<ptr>\**)\s*(?P<name>\w+)"
                   r"(?:\s+(?P<min>\d+)(?::(?P<max>\d+))?)?$")


def parse_fields(items):
    """Fields from [(declaration text, trailing comment)]; __sizeX + X becomes a list."""
    fields = []
    pending_size = None
    for text, comment in items:
        text = " ".join(text.split())
        m = FIELD.match(text)
        if not m:
            raise ValueError("cannot read the field %r" % text)
        ctype, ptr, name = m.group("type"), len(m.group("ptr")), m.group("name")
        explicit = m.group("min")
        if name.startswith("__size"):
            pending_size = (name[len("__size"):], int(explicit) if explicit else 0, comment)
            continue
        if pending_size and pending_size[0] == name:
            min_occurs = pending_size[1]
            fields.append(Field(name, ctype, ptr - 1, min_occurs, True,
                                comment or pending_size[2]))
            pending_size = None
            continue
        if name.startswith("__") or ctype == "void":
            continue                    # gSOAP internals (__type, __any)
        min_occurs = int(explicit) if explicit is not None else (0 if ptr else 1)
        fields.append(Field(name, ctype, ptr, min_occurs, False, comment))
    return fields


def split_members(tokens, start, closer, separator):
    """Reads members up to `closer`: [(text, trailing comment)], and the index after it.
    A comment on the same line after a separator belongs to the member before it."""
    items, text, i = [], "", start
    last_closed = None                  # index in items of the member just closed
    while i < len(tokens):
        tok = tokens[i]
        if tok == closer:
            if text.strip():
                items.append([text, None])
            return [tuple(x) for x in items], i + 1
        if tok == separator:
            if text.strip():
                items.append([text, None])
                last_closed = len(items) - 1
            text = ""
        elif tok.startswith("/*"):
            if last_closed is not None and not text.strip():
                items[last_closed][1] = clean_comment(tok)
        elif tok == "\n":
            last_closed = None
            if text.strip():
                text += " "
        elif not tok.startswith("//"):
            text += tok
        i += 1
    raise ValueError("unterminated declaration")


def parse_header(source):
    """(file comment, [Struct], [Operation]) in the header's order."""
    tokens = TOKEN.findall(source)
    structs, operations = [], []
    file_comment, doc, newlines = None, None, 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.startswith("/*"):
            doc, newlines = clean_comment(tok), 0
            if file_comment is None and not structs and not operations:
                file_comment = doc
                doc = None
            i += 1
            continue
        if tok == "\n":
            newlines += 1
            if newlines > 1:            # a blank line: the comment was not about what follows
                doc = None
            i += 1
            continue
        if tok.startswith("//") or tok.isspace():
            i += 1
            continue
        newlines = 0
        if tok == "struct" and i + 2 < len(tokens):
            j = i + 1
            while tokens[j].isspace():
                j += 1
            name = tokens[j]
            j += 1
            while tokens[j].isspace() or tokens[j] == "\n":
                j += 1
            if tokens[j] == "{":
                items, j = split_members(tokens, j + 1, "}", ";")
                if name.startswith("ks__"):
                    structs.append(Struct(name, doc, parse_fields(items)))
                while tokens[j] != ";":
                    j += 1
                i, doc = j + 1, None
                continue
        if tok == "int":
            j = i + 1
            while tokens[j].isspace():
                j += 1
            if tokens[j].startswith("ks__") and tokens[j + 1] == "(":
                name = tokens[j][len("ks__"):]
                items, j = split_members(tokens, j + 2, ")", ",")
                # gSOAP: the last parameter is the response, a struct (whose
                # fields are the response element's) or one value (its only field).
                response = None
                last = " ".join(items[-1][0].split()) if items else ""
                m = re.fullmatch(r"struct (ks__\w+)\s*\*\s*\w+", last)
                if m:
                    response = m.group(1)
                    items = items[:-1]
                elif items:
                    response = "ks__%sResponse" % name
                    one = parse_fields([(last.replace("*", "", 1), items[-1][1])])
                    structs.append(Struct(response, None, one))
                    items = items[:-1]
                operations.append(Operation(name, doc, parse_fields(items), response))
                while tokens[j] != ";":
                    j += 1
                i, doc = j + 1, None
                continue
        # anything else (enums, typedefs): skip to the end of its declaration
        depth = 0
        while i < len(tokens):
            if tokens[i] == "{":
                depth += 1
            elif tokens[i] == "}":
                depth -= 1
            elif tokens[i] == ";" and depth == 0:
                break
            i += 1
        i, doc = i + 1, None
    return file_comment, structs, operations

# ---- text -----------------------------------------------------------------------------


def md_text(text):
    """Comment text as Markdown: < > escaped outside `code`, paragraphs kept."""
    parts = re.split(r"(`[^`]*`)", text)
    out = "".join(p if p.startswith("`") else p.replace("&", "&amp;").replace("<", "&lt;")
                  .replace(">", "&gt;").replace("*", "\\*")
                  for p in parts)
    paragraphs, current = [], []
    for line in out.split("\n"):
        if not line.strip():
            if current:
                paragraphs.append(current)
            current = []
            continue
        if line.startswith("- ") and current and not current[0].startswith("- "):
            paragraphs.append(current)
            current = []
        current.append(line)
    if current:
        paragraphs.append(current)
    blocks = []
    for para in paragraphs:
        if para[0].startswith("- "):
            items, item = [], []
            for line in para:
                if line.startswith("- ") and item:
                    items.append(" ".join(item))
                    item = []
                item.append(line.strip())
            items.append(" ".join(item))
            blocks.append("\n".join(items))
        else:
            blocks.append(" ".join(line.strip() for line in para))
    return "\n\n".join(blocks)


def cell(text):
    """Text for a table cell: one line, pipes escaped."""
    return md_text(" ".join((text or "").split())).replace("|", "\\|")


def sentences(text):
    text = " ".join(text.split())
    parts = re.split(r"(?<!e\.g\.)(?<!i\.e\.)(?<=[.;])\s+", text)
    return [s.strip() for s in parts if s.strip()]


LIMIT_WORDS = re.compile(r"\d|at most|at least|up to|\blimit\b|\bmax", re.I)


def limits_of(op):
    """Sentences of the operation's comment and its fields' comments that state a limit."""
    found = [s for s in sentences(op.text) if LIMIT_WORDS.search(s)]
    for f in op.fields:
        if f.comment and LIMIT_WORDS.search(f.comment):
            found.append("`%s`: %s" % (f.name, " ".join(f.comment.split())))
    return found


def faults_of(op, struct_by_name):
    """The fault codes the operation's comments name, in the order of FAULT_CODES."""
    text = op.text + " " + " ".join(f.comment or "" for f in op.fields)
    return [c for c in FAULT_CODES if re.search(r"\b%s\b" % c, text)]


def type_cell(f, linked):
    name = f.type_name()
    if f.ks_struct() and f.ks_struct() in linked:
        name = "[%s](#type-%s)" % (name, name.lower())
    if f.is_list:
        return "list of %s" % name
    return name


def occurs_cell(f):
    if f.is_list:
        return "required, at least %d" % f.min_occurs if f.required else "optional (may be empty)"
    return "required" if f.required else "optional"

# ---- examples -----------------------------------------------------------------------------


class File:
    """A file's bytes as an argument (a PNG to upload)."""

    def __init__(self, path):
        self.path = path


# The arguments of one call per operation, for the plain SOAP clients. A site
# operation whose sample library has it takes the sample's call instead.
EXAMPLES = {
    # site
    "ListCategories": {"name": "hair"},
    "ListItems": {"categoryId": 2, "limit": 20},
    "GetItem": {"itemId": 12},
    "ListScenes": {},
    "CreateAvatar": {"userId": "alice"},
    "GetAvatar": {"userId": "alice", "minVersion": 3},
    "GetAvatars": {"userId": ["alice", "bob"]},
    "DeleteAvatar": {"userId": "alice"},
    "ChangeOutfit": {"userId": "alice", "wear": [12], "remove": [7]},
    "PreviewAvatar": {"userId": "alice", "wear": [13]},
    "RegenerateAvatar": {"userId": "alice"},
    "GrantItem": {"userId": "alice", "itemId": 12},
    "RevokeItem": {"userId": "alice", "itemId": 12},
    "ListMemberItems": {"userId": "alice", "limit": 50},
    "CreateAlbumPhoto": {"userId": "alice", "sceneId": 1, "friendUserId": ["bob"],
                         "caption": "at the beach"},
    "ListAlbumPhotos": {"userId": "alice", "limit": 10},
    "DeleteAlbumPhoto": {"userId": "alice", "photoId": 17},
    # admin
    "RegisterCategory": {"name": "hat", "zOrder": 70, "exclusive": True, "required": False},
    "RegisterItem": {"categoryId": 9, "name": "straw hat", "price": 120,
                     "layer": [{"png": File("straw-hat.png")}]},
    "UpdateItem": {"itemId": 40, "price": 90, "layer": [{"png": File("straw-hat-v2.png")}]},
    "RetireItem": {"itemId": 40},
    "RegisterScene": {"name": "beach", "png": File("beach.png"),
                      "slot": [{"x": 40, "y": 100}, {"x": 300, "y": 100}]},
    "ListImageServers": {},
    "SetImageServerMode": {"name": "img3", "mode": "draining"},
    "SetImageServerWeight": {"name": "img2", "weight": 3},
    "MoveAvatars": {"from": "img3", "to": "img1", "limit": 1000},
    "ImportMembers": {"member": [{"userId": "carol", "ownedItemId": [3, 12, 13],
                                  "wornItemId": [3, 12]}]},
    "GetSystemStatus": {},
    "SearchItems": {"status": "draft", "nameContains": "hat", "limit": 50},
    "UpdateCategory": {"categoryId": 9, "zOrder": 75, "required": False},
    "SearchMembers": {"userIdPrefix": "ali", "limit": 50},
    "MoveAvatar": {"userId": "alice", "to": "img1"},
    "ListAvatarsByServer": {"server": "img1", "after": "alice", "limit": 500},
    "RebuildAvatars": {"server": "img1", "userId": ["alice", "bob"], "checkOnly": True},
    "SyncImageServer": {"server": "img1"},
    # node
    "RegisterImageServer": {"name": "img1", "internalUrl": "http://10.0.0.21:8081",
                            "publicUrl": "https://img1.example.com", "weight": 1},
    "Heartbeat": {"name": "img1", "itemsStored": 412, "avatarsComposed": 1093,
                  "storeFreeBytes": 52613349376},
    "GetCatalogManifest": {"offset": 0, "limit": 500},
    "GetItemLayer": {"itemId": 12, "layerNo": 0},
    "GetImageRecipe": {"userId": "alice"},
    "GetSceneBackground": {"sceneId": 1},
}

CREDENTIALS = {"site": "SITE", "admin": "ADMIN", "node": "NODE"}


def render_value(value, lang):
    if isinstance(value, bool):
        return {"python": "True" if value else "False"}.get(lang, "true" if value else "false")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"%s"' % value if lang == "python" else "'%s'" % value
    if isinstance(value, File):
        return {"python": 'open("%s", "rb").read()' % value.path,
                "php": "file_get_contents('%s')" % value.path,
                "js": "fs.readFileSync('%s').toString('base64')" % value.path}[lang]
    if isinstance(value, list):
        inner = ", ".join(render_value(v, lang) for v in value)
        return "[%s]" % inner
    if isinstance(value, dict):
        return render_args(value, lang, nested=True)
    raise TypeError(value)


def render_args(args, lang, nested=False):
    if lang == "python":
        if nested:
            return "{%s}" % ", ".join('"%s": %s' % (k, render_value(v, lang))
                                      for k, v in args.items())
        return ", ".join("%s=%s" % (k, render_value(v, lang)) for k, v in args.items())
    if lang == "php":
        return "[%s]" % ", ".join("'%s' => %s" % (k, render_value(v, lang))
                                  for k, v in args.items())
    if not args:
        return "{}"
    return "{ %s }" % ", ".join("%s: %s" % (k, render_value(v, lang)) for k, v in args.items())


def plain_example(op, response, lang):
    """The call of op through the language's plain SOAP client, or None."""
    args = EXAMPLES.get(op.name)
    if args is None:
        return None
    if lang == "python" and any(k in ("from", "import", "class", "def", "lambda", "pass")
                                for k in args):
        call = "api.%s(**%s)" % (op.name, render_args(args, lang, nested=True))
    else:
        call = "api.%s(%s)" % (op.name, render_args(args, lang))
    fields = response.fields if response else []
    one = fields[0].name if len(fields) == 1 else None
    if lang == "python":            # zeep unwraps a response of one element
        return "%s = %s" % (one or "answer", call)
    if lang == "php":
        call = "$api->%s(%s)" % (op.name, render_args(args, lang) if args else "")
        return "$%s = %s%s;" % (one or "answer", call, "->" + one if one else "")
    call = "api.%sAsync(%s)" % (op.name, render_args(args, lang))
    if one:
        return "const [result] = await %s;\nconst %s = result && result.%s;" % (call, one, one)
    return "const [answer] = await %s;" % call


LANGUAGES = [
    # (title, fence, sample folder, walkthrough, how a README names a method's call)
    ("PHP", "php", "samples/php", "walkthrough.php"),
    ("Python", "python", "samples/python", "walkthrough.py"),
    ("JavaScript", "js", "samples/node", "walkthrough.js"),
]
FENCE_LANG = {"php": "php", "python": "python", "js": "js"}
COMMENT = {"php": "//", "python": "#", "js": "//"}


class Sample:
    """A sample library: its README's method table and setup code, its walkthrough."""

    def __init__(self, root, folder, walkthrough, fence):
        self.folder = folder
        self.walkthrough = walkthrough
        self.fence = fence
        self.methods = {}               # operation -> (signature, returns)
        self.setup = None
        self.lines = []
        readme = os.path.join(root, folder, "README.md")
        path = os.path.join(root, folder, walkthrough)
        if not (os.path.isfile(readme) and os.path.isfile(path)):
            return
        with open(readme, encoding="utf-8") as f:
            text = f.read()
        for line in text.split("\n"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 3 and re.fullmatch(r"`?[A-Z]\w+`?", cells[1]) and \
                    cells[0].startswith("`"):
                op = cells[1].strip("`")
                self.methods.setdefault(op, (cells[0].strip("`"), cells[2]))
        m = re.search(r"^```%s\n(.*?)^```" % re.escape(fence), text, re.S | re.M)
        self.setup = m.group(1).rstrip() if m else None
        with open(path, encoding="utf-8") as f:
            self.lines = f.read().split("\n")

    def example(self, op):
        """(call expression, line number, signature, returns) from the walkthrough, or None."""
        if op not in self.methods:
            return None
        signature, returns = self.methods[op]
        method = re.match(r"[\w$]+", signature).group(0)
        pattern = re.compile(r"(?:\$?\w+)(?:->|\.)%s\(" % re.escape(method))
        for number, line in enumerate(self.lines, 1):
            m = pattern.search(line)
            if not m or line.lstrip().startswith(("//", "#", "*", "/*")):
                continue
            text = "\n".join(self.lines[number - 1:number + 5])[m.start():]
            depth, end, quote = 0, None, None
            for k, ch in enumerate(text):
                if quote:
                    if ch == quote and text[k - 1] != "\\":
                        quote = None
                elif ch in "'\"`":
                    quote = ch
                elif ch == "(":
                    depth += 1
                elif ch == ")":
                    depth -= 1
                    if depth == 0:
                        end = k + 1
                        break
            if end is None:
                continue
            call = re.sub(r"\s*\n\s*", " ", text[:end])
            return call, number, signature, returns
        return None


def sample_snippet(sample, found, lang):
    call, _, _, _ = found
    statement = {"php": call + ";", "python": call, "js": "await " + call + ";"}[lang]
    # No line number: an edit elsewhere in the walkthrough changes nothing here.
    return "%s  %s %s/%s" % (statement, COMMENT[lang], sample.folder, sample.walkthrough)

# ---- the reference ------------------------------------------------------------------------


def anchor(name):
    return name.lower()


def render(root):
    with open(os.path.join(root, HEADER), encoding="utf-8") as f:
        file_comment, structs, operations = parse_header(f.read())
    struct_by_name = {s.name: s for s in structs}
    samples = {fence: Sample(root, folder, walk, fence)
               for _, fence, folder, walk in LANGUAGES}
    response_names = {op.response for op in operations}
    documented_types = [s for s in structs if s.name not in response_names
                        and s.name != "ks__KisekaeFault"]
    linked = {s.name for s in documented_types}
    stats = {"ops": len(operations), "roles": {}, "from_samples": {}, "plain": {},
             "missing": [], "no_role": []}

    out = []
    w = out.append
    w("# kisekae API reference")
    w("")
    w("<!-- Generated by docs/gen_api_reference.py from wsdl/kisekae.h and the sample")
    w("     libraries; do not edit. After changing the header or a sample:")
    w("     /usr/bin/python3 docs/gen_api_reference.py -o docs/api-reference.md")
    w("     (the ctest docs_drift fails while this file is out of date). -->")
    w("")
    w(md_text(file_comment or ""))
    w("")
    w("Every call is an HTTP POST of a SOAP 1.1 envelope to an API server (the WSDL is "
      "served at `?wsdl`) with HTTP Basic credentials of an API client. A client has one "
      "role: **site** (a community website: member operations), **admin** (staff: the "
      "catalog and the cluster; an admin may also call every site operation) or **node** "
      "(the image servers' own calls). A call outside the caller's role is a `Forbidden` "
      "fault; wrong or missing credentials are HTTP 401 with an `Unauthorized` fault. "
      "Create clients with `kisekae-api -c FILE --add-client NAME ROLE` (the secret on "
      "stdin).")
    w("")
    w("In the tables, *required* means the element must be sent (minOccurs 1); an "
      "*optional* element may be left out; a list is the element repeated, and an absent "
      "list is an empty one.")
    w("")
    w("## Operations")
    w("")
    by_role = {}
    for op in operations:
        by_role.setdefault(op.role, []).append(op)
        stats["roles"][op.role or "none"] = stats["roles"].get(op.role or "none", 0) + 1
        if not op.role:
            stats["no_role"].append(op.name)
    order = [r for r in ROLES if r in by_role] + ([None] if None in by_role else [])
    w("| operation | role | what it does |")
    w("|---|---|---|")
    for role in order:
        for op in sorted(by_role[role], key=lambda o: o.name):
            first = sentences(op.text)[0] if op.text.strip() else ""
            first = first[:1].upper() + first[1:]
            w("| [%s](#%s) | %s | %s |" % (op.name, anchor(op.name), op.role_text or "not stated",
                                           cell(first)))
    w("")

    w("## Faults")
    w("")
    fault = struct_by_name.get("ks__KisekaeFault")
    if fault and fault.comment:
        w(md_text(fault.comment))
        w("")
    w("A fault's `faultcode` is `SOAP-ENV:Client` when the caller must change something "
      "and `SOAP-ENV:Server` for `ImageServerUnavailable`, `DatabaseUnavailable` and "
      "`Internal`. Branch on the code in `<detail><ks:KisekaeFault><ks:code>`, never on "
      "the message. Every operation may answer `Unauthorized`, `Forbidden`, "
      "`InvalidArgument` (a field out of its limits), `TooLarge` (a request over the "
      "server's size limits), `DatabaseUnavailable` and `Internal`; the operations below "
      "name the other codes their comments state. A fault changes nothing.")
    w("")

    w("## Examples: the clients")
    w("")
    w("Site operations are shown with the sample libraries (a site copies the folder "
      "and uses it as it is); each example is the call as the sample's walkthrough makes "
      "it, against a live stack. Admin and node operations, and site operations a sample "
      "lacks, are shown with the language's plain SOAP client built from the served "
      "WSDL with the role's credentials, as below.")
    w("")
    for title, fence, folder, _ in LANGUAGES:
        sample = samples[fence]
        w("### %s" % title)
        w("")
        if sample.setup:
            w("The sample library `%s/` (see its README):" % folder)
            w("")
            w("```%s" % FENCE_LANG[fence])
            w(sample.setup)
            w("```")
            w("")
        w("The plain client (`USER`/`PASSWORD`: an API client of the operation's role):")
        w("")
        w("```%s" % FENCE_LANG[fence])
        w(PLAIN_SETUP[fence])
        w("```")
        w("")

    for role in order:
        w("## %s operations" % ({"site": "Site", "admin": "Admin", "node": "Node"}
                                .get(role, "Other")))
        w("")
        for op in sorted(by_role[role], key=lambda o: o.name):
            render_operation(op, struct_by_name, linked, samples, stats, w)

    w("## Types")
    w("")
    for s in documented_types:
        tname = s.name[len("ks__"):]
        w('<a id="type-%s"></a>' % tname.lower())
        w("")
        w("### %s" % tname)
        w("")
        if s.comment:
            w(md_text(s.comment))
            w("")
        render_fields(s.fields, linked, w, "field")
    return "\n".join(out).rstrip() + "\n", stats


PLAIN_SETUP = {
    "php": "$api = new SoapClient(getenv('KISEKAE_API_URL') . '?wsdl', [\n"
           "    'login' => USER, 'password' => PASSWORD,\n"
           "    'features' => SOAP_SINGLE_ELEMENT_ARRAYS,   // a list of one stays an array\n"
           "    'cache_wsdl' => WSDL_CACHE_NONE,\n"
           "]);\n"
           "// a fault: catch (SoapFault $e) { $e->detail->KisekaeFault->code }",
    "python": "import os, requests, zeep\n"
              "session = requests.Session()\n"
              "session.auth = (USER, PASSWORD)\n"
              "api = zeep.Client(os.environ[\"KISEKAE_API_URL\"] + \"?wsdl\",\n"
              "                  transport=zeep.Transport(session=session)).service\n"
              "# a fault: except zeep.exceptions.Fault as e:\n"
              "#   e.detail.findtext(\"{urn:kisekae:v1}KisekaeFault/{urn:kisekae:v1}code\")",
    "js": "const fs = require('fs');\n"
          "const soap = require('soap');\n"
          "const api = await soap.createClientAsync(`${process.env.KISEKAE_API_URL}?wsdl`);\n"
          "api.setSecurity(new soap.BasicAuthSecurity(USER, PASSWORD));\n"
          "// a fault: err.root.Envelope.Body.Fault.detail.KisekaeFault.code\n"
          "// base64 fields take a base64 string (a Buffer is refused)",
}


def render_fields(fields, linked, w, what):
    if not fields:
        w("No %ss." % what)
        w("")
        return
    w("| %s | type | occurs | notes |" % what)
    w("|---|---|---|---|")
    for f in fields:
        w("| `%s` | %s | %s | %s |" % (f.name, type_cell(f, linked), occurs_cell(f),
                                       cell(f.comment)))
    w("")


def render_operation(op, struct_by_name, linked, samples, stats, w):
    w("### %s" % op.name)
    w("")
    w("Role: **%s**. SOAPAction `urn:kisekae:v1#%s`." % (op.role_text or "not stated in the header",
                                                         op.name))
    w("")
    if op.text.strip():
        w(md_text(op.text[:1].upper() + op.text[1:]))
        w("")
    w("**Request** `%s`:" % op.name)
    w("")
    render_fields(op.fields, linked, w, "element")
    response = struct_by_name.get(op.response) if op.response else None
    w("**Response** `%s`:" % (op.response[len("ks__"):] if op.response else "none"))
    w("")
    render_fields(response.fields if response else [], linked, w, "element")
    limits = limits_of(op)
    if limits:
        w("**Limits:**")
        w("")
        for s in limits:
            w("- " + (s if s.startswith("`") else md_text(s)))
        w("")
    faults = faults_of(op, struct_by_name)
    w("**Faults:** %s." % (", ".join("`%s`" % c for c in faults) + " and the common ones"
                          if faults else "the common ones (see [Faults](#faults))"))
    w("")
    w("**Examples:**")
    w("")
    any_example = False
    for title, fence, folder, _ in LANGUAGES:
        sample = samples[fence]
        found = sample.example(op.name) if op.role == "site" else None
        if found:
            _, _, signature, returns = found
            w("%s, `%s` in `%s/`, returns %s:" % (title, signature, folder, returns))
            w("")
            w("```%s" % FENCE_LANG[fence])
            w(sample_snippet(sample, found, fence))
            w("```")
            w("")
            stats["from_samples"][fence] = stats["from_samples"].get(fence, 0) + 1
            any_example = True
            continue
        plain = plain_example(op, struct_by_name.get(op.response), fence)
        if plain:
            w("%s, the plain client (%s credentials):" % (title, op.role_text or "the right"))
            w("")
            w("```%s" % FENCE_LANG[fence])
            w(plain)
            w("```")
            w("")
            stats["plain"][fence] = stats["plain"].get(fence, 0) + 1
            any_example = True
    if not any_example:
        w("No example yet.")
        w("")
        stats["missing"].append(op.name)


def main():
    parser = argparse.ArgumentParser(description="Generate docs/api-reference.md from "
                                     "wsdl/kisekae.h and the sample libraries.")
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), help="the repository (default: this script's)")
    parser.add_argument("-o", "--output", help="write here (default: stdout)")
    parser.add_argument("--check", metavar="FILE",
                        help="compare with FILE; exit 1 when it differs")
    args = parser.parse_args()
    try:
        text, stats = render(args.root)
    except (OSError, ValueError) as e:
        print("gen_api_reference: %s" % e, file=sys.stderr)
        return 2
    roles = ", ".join("%s %d" % (r, n) for r, n in sorted(stats["roles"].items()))
    print("operations: %d (%s)" % (stats["ops"], roles), file=sys.stderr)
    for _, fence, folder, _ in LANGUAGES:
        print("examples %-6s: %d from %s, %d from the table" % (
            fence, stats["from_samples"].get(fence, 0), folder, stats["plain"].get(fence, 0)),
            file=sys.stderr)
    print("operations without an example: %d%s" % (
        len(stats["missing"]), (": " + ", ".join(stats["missing"])) if stats["missing"] else ""),
        file=sys.stderr)
    if stats["no_role"]:
        print("operations whose comment states no role: %s" % ", ".join(stats["no_role"]),
              file=sys.stderr)
    if args.check:
        try:
            with open(args.check, encoding="utf-8") as f:
                current = f.read()
        except OSError as e:
            print("gen_api_reference: %s" % e, file=sys.stderr)
            return 1
        if current != text:
            diff = list(difflib.unified_diff(current.split("\n"), text.split("\n"),
                                             "checked in", "generated", lineterm="", n=1))
            print("\n".join(diff[:60]), file=sys.stderr)
            print("%s is out of date (%d diff lines): run /usr/bin/python3 "
                  "docs/gen_api_reference.py -o docs/api-reference.md" % (
                      args.check, len(diff)), file=sys.stderr)
            return 1
        print("%s is up to date" % args.check, file=sys.stderr)
        return 0
    if args.output:
        tmp = args.output + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, args.output)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
