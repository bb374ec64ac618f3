#!/usr/bin/env python3
# The load-output parsers of scripts/gpatch-compare, fed with outputs of
# each tool saved in test/real/data/compare (made on this project's machine
# by wrk 4.1, ab 2.3, siege 4.0.7 with JSON and text summaries,
# redis-benchmark 7.0 in its full, -q and --csv forms, memcslap 1.1.4 and
# test/bench/loadgen in both modes). Prints one line per check in the
# real-program tests' style ("NAME: ok: …", NAME the first argument, which
# test/real/gpatch_compare.sh gives); exits 1 when one failed.
import importlib.machinery
import importlib.util
import os
import sys

NAME = sys.argv[1] if len(sys.argv) > 1 else "compare_parsers"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DATA = os.path.join(ROOT, "test", "real", "data", "compare")


def load_module():
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    path = os.path.join(ROOT, "scripts", "gpatch-compare")
    loader = importlib.machinery.SourceFileLoader("gpatch_compare", path)
    spec = importlib.util.spec_from_loader("gpatch_compare", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


# file: (tool, {measure: value}, count); values are compared to 0.01%.
EXPECTED = {
    "wrk.txt": ("wrk", {"requests/s": 622.29, "latency avg (ms)": 23.54,
                        "errors (socket, non-2xx/3xx)": 0}, 1252),
    "wrk-latency.txt": ("wrk", {"requests/s": 565.71,
                                "latency avg (ms)": 23.57,
                                "latency p99 (ms)": 443.74}, 1137),
    "wrk-errors.txt": ("wrk", {"requests/s": 0.0,
                               "errors (socket, non-2xx/3xx)": 9227}, 0),
    "wrk-non2xx.txt": ("wrk", {"requests/s": 1510.15,
                               "latency avg (ms)": 3.26,
                               "errors (socket, non-2xx/3xx)": 1511}, 1511),
    "ab.txt": ("ab", {"requests/s": 745.60, "time per request (ms)": 13.412,
                      "errors (failed, non-2xx)": 0}, 2000),
    "ab-non2xx.txt": ("ab", {"requests/s": 1368.51,
                             "errors (failed, non-2xx)": 300}, 300),
    "siege-json.txt": ("siege", {"transactions/s": 568.22,
                                 "response time (ms)": 20.0,
                                 "failed transactions": 0}, 1216),
    "siege-text.txt": ("siege", {"transactions/s": 969.35,
                                 "response time (ms)": 10.0,
                                 "failed transactions": 0}, 1803),
    "redis-benchmark.txt": ("redis-benchmark",
                            {"SET requests/s": 22727.27,
                             "GET requests/s": 25210.08}, None),
    "redis-benchmark-q.txt": ("redis-benchmark",
                              {"SET requests/s": 30674.85,
                               "GET requests/s": 19531.25}, None),
    "redis-benchmark-csv.txt": ("redis-benchmark",
                                {"SET requests/s": 51724.14,
                                 "GET requests/s": 53571.43,
                                 "INCR requests/s": 54545.45}, None),
    "memcslap-set.txt": ("memcslap", {"set keys/s": 20000 / 0.712}, 20000),
    "memcslap-get.txt": ("memcslap", {"get keys/s": 20000 / 0.612}, 20000),
    "loadgen-echo.txt": ("loadgen", {"msgs/s": 72649,
                                     "p99 latency (us)": 4500.8,
                                     "failed connections": 0}, 72696),
    "loadgen-http.txt": ("loadgen", {"requests/s": 1137,
                                     "HTTP errors (status >= 400)": 0},
                         1138),
}

fails = 0


def ok(msg):
    print("%s: ok: parser: %s" % (NAME, msg))


def bad(msg):
    global fails
    fails += 1
    print("%s: FAIL: parser: %s" % (NAME, msg))


def close(a, b):
    return a is not None and abs(a - b) <= 1e-4 * max(abs(b), 1e-9)


def main():
    m = load_module()
    for name, (tool, rows, count) in EXPECTED.items():
        with open(os.path.join(DATA, name), encoding="utf-8") as f:
            got = m.parse_load_output(f.read())
        if not got:
            bad("%s: not recognised (want %s)" % (name, tool))
            continue
        have = dict(got["rows"])
        wrong = ["%s %r (want %r)" % (k, have.get(k), v)
                 for k, v in rows.items() if not close(have.get(k), v)]
        if got["tool"] != tool:
            wrong.append("tool %s (want %s)" % (got["tool"], tool))
        if count is None and got["count"] is not None or \
                count is not None and not close(got["count"], count):
            wrong.append("count %r (want %r)" % (got["count"], count))
        if wrong:
            bad("%s: %s" % (name, "; ".join(wrong)))
        else:
            ok("%s: %s, %s" % (name, tool, ", ".join(
                "%s %s" % (k, m.fmt(have[k])) for k in rows)))
    if m.parse_load_output("hello\nworld\n") is None:
        ok("an output no parser knows gives no rows")
    else:
        bad("an unknown output was recognised")
    checks = [(m.fmt(12345.6), "12346"), (m.fmt(12.34), "12.3"),
              (m.fmt(2.5), "2.50"), (m.fmt(3.0), "3"),
              (m.cell([5.0]), "5"), (m.cell([1.0, 9.0, 4.0]), "4 (1-9)")]
    wrong = ["%r (want %r)" % (a, b) for a, b in checks if a != b]
    if wrong:
        bad("figures formatted: %s" % ", ".join(wrong))
    else:
        ok("figures formatted: 12346, 12.3, 2.50, 3; median (min-max)")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
