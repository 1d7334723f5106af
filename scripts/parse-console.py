#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Read a test VM's console log; print one line per test and the counts.

Counts kselftest TAP results ("ok N name", "not ok N name", "# SKIP") of each
program's dumped output. A program that exited non-zero without reporting a
failure, a missing section (panic, timeout), a kernel warning, oops, lockdep
splat, kmemleak report or module refused for its version magic each count
as one failure.
Usage: parse-console.py CONSOLE_LOG PROFILE  (writes PROFILE counts to stdout
as the last line: "counts P F S").
"""
import re
import sys

KERNEL_BAD = [
    r"WARNING: ", r"BUG: ", r"Oops", r"Unable to handle kernel", r"Kernel panic",
    r"possible circular locking", r"possible recursive locking",
    r"inconsistent lock state", r"suspicious RCU usage", r"list_(add|del) corruption",
    r"BUG \S+ \(.*\): ", r"Call trace:", r"INFO: task .* blocked for more than",
    r"watchdog: BUG: soft lockup", r"UBSAN:", r"KASAN:",
    # A module built for another kernel: every test would skip, not fail
    r"version magic '.*' should be", r"disagrees about version of symbol",
]
BAD_RE = re.compile("|".join(KERNEL_BAD))


def main():
    log, profile = sys.argv[1], sys.argv[2]
    text = open(log, errors="replace").read().replace("\r", "")
    lines = text.split("\n")
    passed = failed = skipped = 0
    problems = []

    sections = {}
    order = []
    cur = None
    for ln in lines:
        m = re.match(r"### BEGIN (\S+)$", ln)
        if m:
            cur = m.group(1)
            sections[cur] = {"lines": [], "end": None}
            order.append(cur)
            continue
        m = re.match(r"### END (\S+)(.*)$", ln)
        if m and cur == m.group(1):
            sections[cur]["end"] = m.group(2).strip()
            cur = None
            continue
        if cur:
            sections[cur]["lines"].append(ln)

    expected = [l.split()[0] for l in open(sys.argv[3]).read().split("\n") if l.strip()] \
        if len(sys.argv) > 3 else []
    for prog in order:
        if prog in ("kmemleak", "dmesg"):
            continue
        sec = sections[prog]
        p = f = s = 0
        for ln in sec["lines"]:
            m = re.match(r"(not ok|ok) \d+ (.*)$", ln)
            if not m:
                continue
            name = m.group(2)
            if m.group(1) == "ok" and "# SKIP" in name:
                s += 1
                print(f"  skip  {profile}: {prog}: {name}")
            elif m.group(1) == "ok":
                p += 1
                print(f"  pass  {profile}: {prog}: {name}")
            else:
                f += 1
                print(f"  FAIL  {profile}: {prog}: {name}")
        rc = re.search(r"rc=(\d+)", sec["end"] or "")
        if sec["end"] is None:
            f += 1
            problems.append(f"{prog}: output section not closed")
        elif rc and rc.group(1) != "0" and f == 0:
            f += 1
            problems.append(f"{prog}: exited with status {rc.group(1)} "
                            f"({'killed by the timeout' if rc.group(1) == '137' else 'no failing test reported'})")
        elif p + f + s == 0:
            f += 1
            problems.append(f"{prog}: reported no test results")
        passed += p
        failed += f
        skipped += s
    for prog in expected:
        if prog not in sections:
            failed += 1
            problems.append(f"{prog}: never ran (VM died or timed out before it)")

    leak = sections.get("kmemleak", {}).get("lines", [])
    if any("unreferenced object" in l for l in leak):
        failed += 1
        problems.append("kmemleak reports leaked objects:\n    " +
                        "\n    ".join(leak[:30]))
    dm = sections.get("dmesg")
    klines = dm["lines"] if dm else lines
    bad = [l for l in klines if BAD_RE.search(l)]
    if bad:
        failed += 1
        problems.append("kernel log shows warnings/oopses:\n    " + "\n    ".join(bad[:20]))
    if "### DONE" not in text:
        failed += 1
        problems.append("the VM did not reach the end of its test list (panic, hang or timeout)")
    for pr in problems:
        print(f"  FAIL  {profile}: {pr}")
    print(f"counts {passed} {failed} {skipped}")


if __name__ == "__main__":
    main()
