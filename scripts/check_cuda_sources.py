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
when a rule is broken. --self-test first checks the checker on the bad and
good snippets below.
"""
import pathlib
import re
import sys

EXTS = {".cu", ".cuh", ".h"}
LOOP = re.compile(r"^(for|while|do)\b")
# what is not code: block comments, line comments, string and character
# literals (kept as blanks of the same line structure), _Pragma(...)
NOT_CODE = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
                      re.S)
PRAGMA_OP = re.compile(r"_Pragma\s*\((?:[^()]|\([^()]*\))*\)")


def code_lines(text):
    """The text's lines with comments, literals and _Pragma(...) blanked
    (newlines kept, so line numbers stay), preprocessor directives emptied
    but for the bodies of #define, and macro line continuations dropped."""
    blank = NOT_CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    blank = PRAGMA_OP.sub(lambda m: " " * len(m.group(0)), blank)
    out = []
    for line in blank.split("\n"):
        c = line.strip()
        if c.endswith("\\"):
            c = c[:-1].strip()
        if c.startswith("#"):  # a macro body is code; other directives are not
            d = re.match(r"#\s*define\s+\w+(\([^)]*\))?", c)
            c = c[d.end():].strip() if d else ""
        out.append(c)
    return out


def findings(text, name):
    lines = code_lines(text)
    out = []
    for i, code in enumerate(lines):
        for m in re.finditer(r"\belse\b", code):
            rest = code[m.end():].strip()
            if rest.startswith("if") or rest.startswith("{"):
                continue
            if not rest:  # the statement after a bare `else`: the next code line
                rest = next((c for c in lines[i + 1:] if c), "")
            if LOOP.match(rest):
                out.append(f"{name}:{i + 1}: a loop as the unbraced body of `else`")
    return out


# The self-test's snippets: each of BAD must give one finding, none of GOOD any.
BAD = [
    """auto f = [&](auto fc) {
  if constexpr (decltype(fc)::value) {
    m = 1;
  } else
#pragma unroll
    for (int s = 0; s < 2; ++s) {
      m += s;
    }
  sink(m);
};""",
    "} else /* note */\n  for (;;) {}",
    "} else\n/* a\n  comment */\nfor (;;) {}",
    "} else\n#if X\n#endif\n  while (x) {}",
    "} else _Pragma(\"unroll\")\n  for (;;) {}",
    "#define M(x) if (x) { } else \\\n  for (;;) {}",
    "if (a) { } else { } if (b) { } else for (;;) {}",
    'p("http://x"); } else\n  for (;;) {}',
]
GOOD = [
    """if constexpr (F) {
  m = 1;
} else {
  for (int s = 0; s < 2; ++s) m += s;
}
if (a) b();
else if (c) d();
else
  e();  // for the rest""",
    "/* this branch or else\n   for the rest */ x = 1;",
    'const char *s = "else\\n"; for (;;) {}',
    "int elsewhere = 0;\nfor (;;) {}",
]


def self_test():
    missed = [t for t in BAD if len(findings(t, "t")) != 1]
    false = [t for t in GOOD if findings(t, "t")]
    if missed or false:
        print(f"check_cuda_sources self-test failed: missed {missed}, false {false}")
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
