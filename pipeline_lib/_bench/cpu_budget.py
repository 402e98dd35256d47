"""CPU budget of the bench's e2e phase, per process and per server thread (a measuring tool the
bench command does not run): `python -m pipeline_lib._bench.cpu_budget --items 30000 [--pyspy DIR]`.

Runs the bench's own steps (private cloud, stack, writes alone, then the pipeline until crawled)
and reads utime+stime from /proc for: this process (the seeding client), the cloud's server
process (per thread; names from `py-spy dump`), and every child of the server (Lambda workers,
conversion workers), at the e2e phase's start, after the writes, after the flush, after the crawl.
With --pyspy, py-spy records the server and this process during the e2e phase (collapsed stacks).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import time
from pathlib import Path

from .rss import children

TICK = os.sysconf("SC_CLK_TCK")


def _ticks(stat_path: str) -> float:
    try:
        text = Path(stat_path).read_text()
    except OSError:
        return 0.0
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def _cmd(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"
    if "lambda_runtime/worker.py" in raw:
        return "lambda-worker"
    if "conversion_worker" in raw:
        return "conversion-worker"
    return raw[:60]


class Snapshot:
    def __init__(self, server: int):
        self.at = time.monotonic()
        self.client = _ticks(f"/proc/{os.getpid()}/stat")
        self.threads = {int(t.name): _ticks(f"{t}/stat") for t in Path(f"/proc/{server}/task").iterdir()}
        self.server = _ticks(f"/proc/{server}/stat")  # every thread's, exited ones included
        self.children = {pid: (_cmd(pid), _ticks(f"/proc/{pid}/stat")) for pid in children(server)}
        # Children that exited meanwhile are counted in the server's cutime (waited for).
        stat = Path(f"/proc/{server}/stat").read_text().rsplit(")", 1)[1].split()
        self.reaped = (int(stat[13]) + int(stat[14])) / TICK


def thread_names(server: int) -> dict[int, str]:
    out = subprocess.run(["py-spy", "dump", "--pid", str(server)], capture_output=True, text=True)
    names = {}
    # py-spy prints: Thread 1234 (idle): "name"  (the OS thread id on Linux)
    for m in re.finditer(r'Thread (\d+) \([^)]*\): "([^"]*)"', out.stdout):
        names[int(m.group(1))] = m.group(2)
    return names


def _group(name: str) -> str:
    if name.startswith("firehose-") and "conversion" in name:
        return "firehose conversion thread (waits on worker)"
    if name.startswith("firehose-"):
        return "firehose engine thread"
    if name == "dynamodb-kinesis-forwarder":
        return "dynamodb->kinesis forwarder"
    if name.startswith("Thread-") or name.startswith("process_request"):
        return "HTTP request threads"
    if name in ("MainThread",):
        return "server main thread"
    return name or "unnamed"


def delta(a: Snapshot, b: Snapshot, names: dict[int, str]) -> dict:
    groups: dict[str, float] = {}
    for tid, t in b.threads.items():
        used = t - a.threads.get(tid, 0.0)
        if used <= 0:
            continue
        g = _group(names.get(tid, "unnamed (ended before the names were read)"))
        groups[g] = groups.get(g, 0.0) + used
    # Threads that ended between the two snapshots (request threads of closed connections).
    groups["exited threads"] = round(b.server - a.server - sum(groups.values()), 2)
    kids: dict[str, float] = {}
    for pid, (kind, t) in b.children.items():
        kids[kind] = kids.get(kind, 0.0) + t - a.children.get(pid, (kind, 0.0))[1]
    kids["reaped children"] = b.reaped - a.reaped
    return {
        "wall_s": round(b.at - a.at, 2),
        "client_cpu_s": round(b.client - a.client, 2),
        "server_threads_cpu_s": {k: round(v, 2) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])},
        "server_cpu_s": round(b.server - a.server, 2),
        "children_cpu_s": {k: round(v, 2) for k, v in kids.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=30000)
    parser.add_argument("--pyspy", default=None, help="folder for py-spy collapsed stacks")
    args = parser.parse_args()

    from pipeline_lib import data, deploy
    from pipeline_lib._bench import run as bench
    from pipeline_lib._bench.rss import RssSampler
    from pipeline_lib.localcloud import lifecycle
    import tempfile

    items, bad = args.items, bench._bad_items(args.items)
    out: dict = {"items": items, "load_before": os.getloadavg()}
    with bench._private_cloud(None) as (running, session), tempfile.TemporaryDirectory(prefix="bench-") as work:
        server = running.record.pid
        outputs = deploy.deploy(backend="local", context=bench.DEPLOY_CONTEXT, out_dir=Path(work) / "cdk.out",
                                boto3_session=session, progress=False)
        with RssSampler(server) as rss:
            r = bench._Run(items, session, running, outputs, Path(work),
                           list(data.generate_items(items, seed=bench.SEED, bad=bad)), False, rss, {})
            s0 = Snapshot(server)
            alone = bench._writes_alone(r)
            s1 = Snapshot(server)
            spies = []
            if args.pyspy:
                Path(args.pyspy).mkdir(parents=True, exist_ok=True)
                for pid, name in ((server, "server"), (os.getpid(), "client")):
                    spies.append(subprocess.Popen(
                        ["py-spy", "record", "--pid", str(pid), "--rate", "40", "--format", "raw", "--threads",
                         "--nonblocking", *(["--subprocesses"] if name == "server" else []),
                         "-o", f"{args.pyspy}/{name}.txt"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            marks = {}
            original_seed, original_flush = bench._seed, lifecycle.flush

            def seed(*a, **k):
                result = original_seed(*a, **k)
                marks["written"] = Snapshot(server)
                return result

            def flush(*a, **k):
                result = original_flush(*a, **k)
                marks["flushed"] = Snapshot(server)
                return result

            bench._seed, lifecycle.flush = seed, flush
            s2 = Snapshot(server)
            piped = bench._through_the_pipeline(r, alone)
            s3 = Snapshot(server)
            bench._seed, lifecycle.flush = original_seed, original_flush
            names = thread_names(server)
            for spy in spies:
                spy.send_signal(2)
                spy.wait(timeout=60)
            status = bench._engine_status(running.record.state_dir, r.stream)
        out["figures"] = r.figures
        out["writes_alone"] = delta(s0, s1, names)
        out["e2e_writes"] = delta(s2, marks["written"], names)
        out["e2e_after_writes_until_flushed"] = delta(marks["written"], marks["flushed"], names)
        out["e2e_crawl"] = delta(marks["flushed"], s3, names)
        out["e2e_total"] = delta(s2, s3, names)
        out["engine"] = {k: status.get(k) for k in ("records_in", "busy_seconds", "lambda_seconds",
                                                    "conversion_seconds", "conversion_cpu_seconds",
                                                    "parquet_seconds")}
        out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
