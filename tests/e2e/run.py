#!/usr/bin/env python3
"""End-to-end test runner for tlsmodem.

    python3 tests/e2e/run.py --bin build/tlsmodem [--quick] [-k substring] [-v] [--keep]

Discovers tests/e2e/test_*.py, runs every `test_*(t)` function with a fresh
temp dir, prints PASS/FAIL/SKIP per test, failure details (traceback, modem
transcript tail, trace tail, server logs) and a last line
"e2e: N passed, N failed, N skipped".  Exit status 1 on any failure.
"""
import argparse
import importlib.util
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import framework  # noqa: E402
import servers    # noqa: E402
from modem import Modem  # noqa: E402


class TestTimeout(Exception):
    pass


def discover(quick_only, substr):
    tests = []
    for fn in sorted(os.listdir(HERE)):
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        modname = fn[:-3]
        spec = importlib.util.spec_from_file_location(modname, os.path.join(HERE, fn))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod
        spec.loader.exec_module(mod)
        q = getattr(mod, "QUICK", ())
        for name, obj in vars(mod).items():
            if not (name.startswith("test_") and callable(obj)):
                continue
            if getattr(obj, "__module__", None) != modname:
                continue   # imported from elsewhere
            full = "%s::%s" % (fn, name)
            is_quick = getattr(obj, "e2e_quick", False) or q is True or name in q
            if quick_only and not is_quick:
                continue
            if substr and substr not in full:
                continue
            line = obj.__code__.co_firstlineno
            tests.append((fn, line, full, obj))
    tests.sort(key=lambda x: (x[0], x[1]))
    return [(full, obj) for _, _, full, obj in tests]


def indent(text, pad="    "):
    return "\n".join(pad + l for l in text.splitlines())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the tlsmodem binary")
    ap.add_argument("--quick", action="store_true", help="only tests marked quick")
    ap.add_argument("-k", dest="substr", help="only tests whose name contains this")
    ap.add_argument("-v", dest="verbose", action="store_true", help="details for passing tests too")
    ap.add_argument("--keep", action="store_true", help="keep temp dirs")
    ap.add_argument("--budget", type=float, default=480,
                    help="suite time budget in seconds; tests not started in time fail")
    o = ap.parse_args()

    binpath = os.path.abspath(o.bin)
    tests = discover(o.quick, o.substr)
    root = tempfile.mkdtemp(prefix="tlsmodem-e2e-")
    session = framework.Session(os.path.join(root, "session"))
    passed = failed = skipped = 0
    t_start = time.monotonic()

    current_limit = [0]

    def on_alarm(signum, frame):
        raise TestTimeout("test exceeded its time limit of %ss (@timeout(N) to change)" % current_limit[0])
    signal.signal(signal.SIGALRM, on_alarm)
    # SIGTERM/SIGINT of the runner: clean up like a failure
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(143))

    if not os.access(binpath, os.X_OK):
        print("e2e: binary %s is missing or not executable" % binpath)

    try:
        for i, (name, fn) in enumerate(tests):
            if time.monotonic() - t_start > o.budget:
                print("FAIL %s (not started: suite time budget of %ss used up)" % (name, o.budget))
                failed += 1
                continue
            tmp = os.path.join(root, "%03d-%s" % (i, name.replace("::", "-").replace(".py", "")))
            os.makedirs(tmp)
            t = framework.Context(name, binpath, tmp, session, o.verbose)
            limit = getattr(fn, "e2e_timeout", framework.DEFAULT_TIMEOUT)
            t0 = time.monotonic()
            status, detail = "PASS", ""
            try:
                if not os.access(binpath, os.X_OK):
                    raise AssertionError("binary %s is missing or not executable" % binpath)
                current_limit[0] = int(limit)
                signal.alarm(int(limit))
                try:
                    fn(t)
                finally:
                    signal.alarm(0)
            except framework.Skip as e:
                status, detail = "SKIP", str(e)
            except (KeyboardInterrupt, SystemExit):
                t.cleanup(passed=False)
                raise
            except BaseException:
                status = "FAIL"
                tb = traceback.format_exc(limit=-6)
                detail = tb
            # cleanup: stop servers and modems; a passing test's modems must exit 0
            try:
                signal.alarm(30)
                t.cleanup(passed=(status == "PASS"))
            except BaseException as e:
                if status == "PASS":
                    status, detail = "FAIL", "at cleanup: %s" % e
            finally:
                signal.alarm(0)
            dt = time.monotonic() - t0
            if status == "PASS":
                passed += 1
                print("PASS %s (%.1fs)" % (name, dt), flush=True)
                if o.verbose:
                    print(indent(t.describe()), flush=True)
            elif status == "SKIP":
                skipped += 1
                print("SKIP %s: %s" % (name, detail), flush=True)
            else:
                failed += 1
                print("FAIL %s (%.1fs)" % (name, dt), flush=True)
                print(indent(detail.rstrip()), flush=True)
                print(indent(t.describe()), flush=True)
                if o.keep:
                    print(indent("temp dir: %s" % tmp), flush=True)
            Modem.instances.clear()
    finally:
        servers.stop_all()
        for m in list(Modem.instances):
            m.kill()
        if o.keep:
            print("e2e: kept %s" % root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print("e2e: time %.1fs" % (time.monotonic() - t_start))
    print("e2e: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed or (not tests) else 0


if __name__ == "__main__":
    sys.exit(main())
