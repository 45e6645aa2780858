"""Compares an Autobahn|Testsuite fuzzingclient run with the committed
expectation and prints a summary. Runs under the suite's own Python 2.7
(and Python 3).

Usage: compare.py REPORT_INDEX_JSON EXPECTED_JSON [--update]

Fails (exit 1) when a case's behavior, close behavior or the close code the
server sent differs from expected.json, when a case is missing or new, or
when any case is FAILED or did not close cleanly (close behavior OK or
INFORMATIONAL, and a clean WebSocket close), whatever expected.json says.
--update rewrites expected.json from the run (then review the diff).
"""
from __future__ import print_function

import json
import sys
from collections import Counter

import os

FIELDS = ("behavior", "behaviorClose", "remoteCloseCode")
# Close behaviors that are a proper close: OK, or INFORMATIONAL where the
# suite only reports what happened (e.g. the close code the server chose).
CLEAN_CLOSE = ("OK", "INFORMATIONAL")


def case_key(case_id):
    return tuple(int(p) for p in case_id.split("."))


def load_run(path):
    with open(path) as f:
        index = json.load(f)
    if len(index) != 1:
        sys.exit("compare: expected one agent in %s, found %s" % (path, sorted(index)))
    cases = list(index.values())[0]
    run = {}
    for cid, r in cases.items():
        run[cid] = dict((k, r.get(k)) for k in FIELDS)
        # Only the per-case report says whether the TCP close was clean.
        with open(os.path.join(os.path.dirname(path), r["reportfile"])) as f:
            run[cid]["wasClean"] = json.load(f).get("wasClean")
    return run


def show(result):
    return json.dumps(result, sort_keys=True)


def summary(run):
    print("conformance: %d cases" % len(run))
    for field in ("behavior", "behaviorClose"):
        counts = Counter(r[field] for r in run.values())
        print("  %-14s %s" % (field + ":", ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
    codes = Counter(str(r["remoteCloseCode"]) for r in run.values())
    print("  %-14s %s" % ("close codes:", ", ".join("%s x%d" % kv for kv in sorted(codes.items()))))
    clean = sum(1 for r in run.values() if r["wasClean"])
    print("  %-14s %d of %d" % ("clean closes:", clean, len(run)))


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    run = load_run(argv[1])
    summary(run)
    if "--update" in argv[3:]:
        with open(argv[2], "w") as f:
            f.write("{\n")
            lines = ['  "%s": %s' % (cid, show(run[cid])) for cid in sorted(run, key=case_key)]
            f.write(",\n".join(lines))
            f.write("\n}\n")
        print("conformance: wrote %s; review the diff before committing" % argv[2])
    with open(argv[2]) as f:
        expected = json.load(f)
    problems = []
    for cid in sorted(set(run) | set(expected), key=case_key):
        got, want = run.get(cid), expected.get(cid)
        if got is None:
            problems.append("%s: expected %s, not run" % (cid, show(want)))
        elif want is None:
            problems.append("%s: not in expected.json, got %s" % (cid, show(got)))
        elif got != want:
            problems.append("%s: expected %s, got %s" % (cid, show(want), show(got)))
        if got is not None and (got["behavior"] == "FAILED" or got["behaviorClose"] not in CLEAN_CLOSE
                                or not got["wasClean"]):
            problems.append("%s: %s, close %s, clean %s" % (cid, got["behavior"], got["behaviorClose"], got["wasClean"]))
    for p in problems:
        print("  DIFFERS " + p)
    if problems:
        print("conformance: %d problem(s); per-case reports in target/conformance/index.html" % len(problems))
        return 1
    print("conformance: every case as expected (%s)" % argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
