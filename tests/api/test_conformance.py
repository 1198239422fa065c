"""The shared contract checker (../shared/tools/conformance.py), run against this
module's server for every group it defines."""
import os
import subprocess
import sys

from harness import CONFORMANCE, check

GROUPS = ("auth,datasets,documents,status,segments,child_chunks,retrieve,actions,tags,metadata,"
          "models,files,update,cleanup")


def test_conformance_all_groups(srv):
    check(os.path.isfile(CONFORMANCE), f"{CONFORMANCE} not found")
    if not os.path.isfile(CONFORMANCE):
        return
    p = subprocess.run([sys.executable, CONFORMANCE, "--base", f"http://127.0.0.1:{srv.port}/v1",
                        "--key", srv.key, "--groups", GROUPS, "--timeout", "10"],
                       capture_output=True, text=True, timeout=90)
    lines = p.stdout.splitlines()
    fails = [l for l in lines if l.startswith("FAIL")]
    last = lines[-1] if lines else "(no output)"
    check(p.returncode == 0,
          f"conformance.py --groups {GROUPS} exited {p.returncode}: {last}\n" + "\n".join(fails[:40])
          + (f"\nstderr: {p.stderr.strip()[-800:]}" if p.stderr.strip() else ""))
    check(any(l.endswith(" 0 failed") for l in lines[-1:]), f"conformance.py result line: {last}")
