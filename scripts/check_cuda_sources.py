#!/usr/bin/env python3
"""check_cuda_sources.py [ROOT]: source rules for the files nvcc compiles.

Rule: no loop as the unbraced body of an `else` (`} else` followed by
`for`/`while`/`do`, `#pragma unroll` lines in between or not). nvcc 13.0.88
(CUDA 13.0) drops the statement that follows `if constexpr (c) { ... } else
for (...) { ... }` inside a generic lambda from the instantiation where c is
true; with braces around the else body it compiles right. A decode variant
lost its block maxima that way on 2026-12-04 (docs/GPU.md, "Compiler
issues"). The rule is wider than the bug (any such else), which keeps it a
plain text check.

Scans kernels_gpu/ (.cu, .cuh, .h). Exit status 1 and one line per finding
when a rule is broken. --self-test checks the checker on a bad and a good
snippet first.
"""
import pathlib
import re
import sys

EXTS = {".cu", ".cuh", ".h"}
LOOP = re.compile(r"^(for|while|do)\b")


def code_of(line):
    """The line without its // comment (string literals with // are not
    expected in these sources)."""
    return line.split("//", 1)[0].strip()


def findings(text, name):
    lines = text.split("\n")
    out = []
    for i, raw in enumerate(lines):
        code = code_of(raw)
        m = re.search(r"\belse\b(.*)$", code)
        if not m:
            continue
        rest = m.group(1).strip()
        if rest.startswith("if") or rest.startswith("{"):
            continue
        if rest:  # `else for (...)` on one line
            if LOOP.match(rest):
                out.append(f"{name}:{i + 1}: a loop as the unbraced body of `else`")
            continue
        for nxt in lines[i + 1:]:  # the statement after a bare `else`
            c = code_of(nxt)
            if not c or c.startswith("#pragma"):
                continue
            if LOOP.match(c):
                out.append(f"{name}:{i + 1}: a loop as the unbraced body of `else`")
            break
    return out


BAD = """auto f = [&](auto fc) {
  if constexpr (decltype(fc)::value) {
    m = 1;
  } else
#pragma unroll
    for (int s = 0; s < 2; ++s) {
      m += s;
    }
  sink(m);
};"""
GOOD = """if constexpr (F) {
  m = 1;
} else {
  for (int s = 0; s < 2; ++s) m += s;
}
if (a) b();
else if (c) d();
else
  e();  // for the rest"""


def self_test():
    bad = findings(BAD, "bad")
    good = findings(GOOD, "good")
    if len(bad) != 1 or good:
        print(f"check_cuda_sources self-test failed: bad -> {bad}, good -> {good}")
        return False
    return True


def main(argv):
    args = [a for a in argv if a != "--self-test"]
    if "--self-test" in argv and not self_test():
        return 1
    root = pathlib.Path(args[0] if args else pathlib.Path(__file__).resolve().parent.parent)
    files = sorted(p for p in (root / "kernels_gpu").rglob("*") if p.suffix in EXTS)
    if not files:
        print(f"check_cuda_sources: no sources under {root / 'kernels_gpu'}")
        return 1
    bad = []
    for p in files:
        bad += findings(p.read_text(), str(p.relative_to(root)))
    for b in bad:
        print(b + " (wrap it in braces: nvcc 13.0 drops the next statement in generic"
              " lambdas; scripts/check_cuda_sources.py)")
    print(f"check_cuda_sources: {len(files)} files, {len(bad)} findings")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
