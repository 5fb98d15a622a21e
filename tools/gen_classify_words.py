#!/usr/bin/env python3
"""Checks the WORD_LIST in protocol/classify.c is sorted and rewrites its
letter_start[] index from it. Run after adding a word:
    python3 tools/gen_classify_words.py protocol/classify.c
The unit test (classify__word_table_check) fails if either is stale."""
import re
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "protocol/classify.c"
src = open(path).read()
block = src[src.index("#define WORD_LIST"):src.index("enum word_id")]
names = re.findall(r"^\s+X\((\w+), ", block, re.M)
if names != sorted(names):
    bad = next(n for a, n in zip(sorted(names), names) if a != n)
    sys.exit("WORD_LIST is not sorted near %s" % bad)
starts = []
for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    starts.append(next((i for i, n in enumerate(names) if n >= c), len(names)))
starts.append(len(names))
new = "static const uint16_t letter_start[27] = {%s};" % ", ".join(map(str, starts))
src, count = re.subn(r"static const uint16_t letter_start\[27\] = \{[^}]*\};", new, src)
if count != 1:
    sys.exit("letter_start[] declaration not found")
open(path, "w").write(src)
print("%d words; letter_start updated" % len(names))
