#!/usr/bin/env python3
"""check_doc_snippets.py DOC SOURCE...

Every region of a SOURCE between a `[doc:NAME]` and a `[/doc:NAME]` marker
line (in a // or /* */ comment) must appear in DOC verbatim, as the body of
a fenced code block, after removing the region's common indentation. The
consumers run those regions, so the documentation's code is code that runs.
Prints one line per region and exits non-zero when one is missing.
"""
import re
import sys
import textwrap

BEGIN = re.compile(r"\[doc:([\w-]+)\]")
END = re.compile(r"\[/doc:([\w-]+)\]")


def regions(path):
    found, name, lines = [], None, []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            end = END.search(line)
            if end and name == end.group(1):
                found.append((name, textwrap.dedent("".join(lines))))
                name, lines = None, []
            elif name is not None:
                lines.append(line)
            elif BEGIN.search(line):
                name = BEGIN.search(line).group(1)
        if name is not None:
            sys.exit(f"{path}: [doc:{name}] is never closed")
    return found


def code_blocks(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return [m.group(1) for m in re.finditer(r"^```[\w+-]*\n(.*?)^```$", text,
                                            re.S | re.M)]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    doc, sources = sys.argv[1], sys.argv[2:]
    blocks = code_blocks(doc)
    missing = 0
    total = 0
    for source in sources:
        for name, body in regions(source):
            total += 1
            if any(body in block for block in blocks):
                print(f"ok: {name} ({source})")
            else:
                print(f"MISSING in {doc}: {name} from {source}:\n{body}")
                missing += 1
    if total == 0:
        sys.exit("no [doc:...] regions found")
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
