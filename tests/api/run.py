#!/usr/bin/env python3
"""run.py - runs the black-box API tests against a ragd binary.

    python3 tests/api/run.py --bin build/asan/ragd [filter]

Discovers tests/api/test_*.py; each module gets a fresh server (SERVER_ENV in the
module sets its environment), its test_*(srv) functions run in source order, then
the server is stopped.  A failure is counted for every test with a failed check or
an escaped exception, and for each server (the module's and any it spawned) that
crashed, did not exit 0 within 10 s of SIGTERM, or printed a sanitizer report.
filter keeps the tests whose "module.function" name contains it.
The last line is "N passed, N failed"; the exit status is 1 when anything failed.
"""
import argparse
import glob
import importlib.util
import inspect
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def fail(self, name, lines):
        self.failed += 1
        print(f"FAIL  {name}")
        for l in lines:
            for sub in str(l).splitlines() or [""]:
                print(f"      {sub}")
        sys.stdout.flush()


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def tests_of(mod, flt):
    out = []
    for name, fn in vars(mod).items():
        if name.startswith("test_") and inspect.isfunction(fn) and fn.__module__ == mod.__name__:
            full = f"{mod.__name__}.{name}"
            if not flt or flt in full:
                out.append((fn.__code__.co_firstlineno, full, fn))
    return [(full, fn) for _, full, fn in sorted(out)]


def check_server(tally, label, srv):
    """Stops srv and counts a failure for a crash, a bad exit or a sanitizer report."""
    problems = []
    if srv.crashed():
        problems.append(f"server crashed (exit {srv.proc.returncode})")
        srv.expected_exit = True
    try:
        srv.stop()
    except AssertionError as e:
        if not problems:
            problems.append(str(e))
    rep = srv.sanitizer_report()
    if rep:
        problems.append("sanitizer report:\n" + rep)
    if problems and not any("stderr tail" in p for p in problems):
        problems.append(f"stderr tail:\n{srv.log_tail(15)}")
        tally.fail(label, problems)
    else:
        tally.passed += 1


def run_module(tally, binary, path, flt, verbose):
    mod = load(path)
    tests = tests_of(mod, flt)
    if not tests:
        return
    env = getattr(mod, "SERVER_ENV", {})
    srv = harness.Server(binary, env=env)
    try:
        srv.start()
    except Exception as e:
        tally.fail(f"{mod.__name__}: server start", [str(e)])
        srv.cleanup()
        return
    try:
        for full, fn in tests:
            harness.reset_failures()
            t0 = time.time()
            extra = []
            skipped = None
            try:
                fn(srv)
            except harness.Skip as e:
                skipped = str(e)
            except Exception:
                extra.append("exception:\n" + traceback.format_exc(limit=6).rstrip())
            fails = harness.failures() + extra
            if srv.crashed():
                fails.append(f"server crashed during this test (exit {srv.proc.returncode});"
                             f" stderr tail:\n{srv.log_tail(20)}")
                srv.expected_exit = True
                try:  # carry on with the rest of the module on a fresh process
                    srv.start()
                except Exception as e:
                    fails.append(f"restart failed: {e}")
            dt = time.time() - t0
            if fails:
                tally.fail(full, fails)
            elif skipped is not None:
                tally.passed += 1
                tally.skipped += 1
                print(f"skip  {full}: {skipped}")
            else:
                tally.passed += 1
                if verbose:
                    print(f"ok    {full} ({dt:.2f} s)")
            if not srv.alive() and not srv.crashed():
                # a test that stopped or killed the server without restarting it
                try:
                    srv.start()
                except Exception as e:
                    tally.fail(f"{full}: restart after test", [str(e)])
                    break
    finally:
        for i, s in enumerate(srv.extras):
            check_server(tally, f"{mod.__name__}: extra server {i + 1} shutdown", s)
        check_server(tally, f"{mod.__name__}: server shutdown", srv)
        srv.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the ragd binary, e.g. build/asan/ragd")
    ap.add_argument("filter", nargs="?", default="", help="run tests whose name contains this")
    ap.add_argument("-v", "--verbose", action="store_true", help="print passing tests too")
    a = ap.parse_args()
    tally = Tally()
    if not os.access(a.bin, os.X_OK):
        tally.fail("setup", [f"{a.bin} is not an executable file"])
    else:
        for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
            try:
                run_module(tally, a.bin, path, a.filter, a.verbose)
            except Exception:
                tally.fail(os.path.basename(path), [traceback.format_exc(limit=6)])
    if tally.skipped:
        print(f"({tally.skipped} skipped, counted as passed)")
    print(f"{tally.passed} passed, {tally.failed} failed")
    sys.exit(1 if tally.failed else 0)


if __name__ == "__main__":
    main()
