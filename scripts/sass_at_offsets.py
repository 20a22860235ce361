#!/usr/bin/env python3
"""The SASS around each kernel offset a compute-sanitizer report names
("... access at void ns::kernel<...>(...)+0x1a2b"), so that a racecheck
hazard can be read as instructions without a debugger.

  sass_at_offsets.py REPORT.log SASS.txt     (SASS.txt: cuobjdump -sass OBJ)

Kernels are matched by the demangled name's text inside the SASS listing's
mangled "Function :" line: the template arguments' digits in order.
"""
import re
import sys


def main():
    report = open(sys.argv[1], errors="replace").read()
    sass = open(sys.argv[2], errors="replace").read().split("\n")
    sites = re.findall(r"(Write|Read) access at (?:void )?([\w:]+)(<[^>]*>)?\([^)]*\)\+0x([0-9a-f]+)",
                       report)
    want = {}
    for kind, name, targs, off in sites:
        digits = re.findall(r"\(int\)(-?\d+)", targs or "")
        want.setdefault((name.split("::")[-1], tuple(digits)), set()).add((kind, int(off, 16)))
    cur, start = None, 0
    for i, line in enumerate(sass):
        m = re.search(r"Function : (\S+)", line)
        if m:
            cur, start = None, i + 1
            for (base, digits) in want:
                if base in m.group(1) and "".join(f"Li{d}E" for d in digits) in m.group(1):
                    cur = (base, digits)
            continue
        m = re.search(r"/\*([0-9a-f]{4,})\*/", line)
        if cur and m:
            for kind, off in sorted(want[cur]):
                if int(m.group(1), 16) == off:
                    print(f"== {cur[0]}<{', '.join(cur[1])}> {kind} at +0x{off:x}")
                    print("\n".join(sass[max(start, i - 12):i + 3]))


if __name__ == "__main__":
    main()
