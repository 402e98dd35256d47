"""`python -m pipeline_lib local up|down|status|env|flush|faults|snapshot` — the local cloud's
lifecycle (fault injection: local_faults.py; snapshots: snapshot.py)."""
from __future__ import annotations

import argparse
import json
import sys
from functools import wraps
from typing import Callable

from ..localcloud import lifecycle

__all__ = ["add_parser"]


def _user_errors(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A LocalCloudError (taken port, a cloud that would not start, ...) is the user's to act on:
    the CLI prints it without a traceback."""

    @wraps(func)
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except lifecycle.LocalCloudError as exc:
            from . import UsageError

            raise UsageError(str(exc)) from None

    return run


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    local = subparsers.add_parser("local", help="run the local cloud (the default backend)")
    sub = local.add_subparsers(dest="local_command", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--state-dir", default=None, help="default: .workbench/ at the repository root")
        return p

    p = common(sub.add_parser("up", help="start it in the background unless it runs"))
    p.add_argument("--port", type=int, default=None, help="default 4566, or a free port if taken")
    p.add_argument("--time-scale", type=float, default=None,
                   help="factor on managed-service waits (Firehose buffers, ...); default 0.05")
    p.set_defaults(func=_up)
    common(sub.add_parser("down", help="stop it")).set_defaults(func=_down)
    p = common(sub.add_parser("status", help="is it running, where, since when, what it holds"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_status)
    common(sub.add_parser("env", help="print shell exports that point any AWS client at it")).set_defaults(func=_env)
    p = common(sub.add_parser("flush", help="return when everything accepted so far is delivered"))
    p.add_argument("--timeout", type=float, default=300.0)
    p.set_defaults(func=_flush)
    from . import local_faults

    local_faults.add_parser(sub, common)

    from . import snapshot

    snapshot.add_parser(sub)


@_user_errors
def _up(args: argparse.Namespace) -> int:
    running = lifecycle.up(port=args.port, state_dir=args.state_dir, time_scale=args.time_scale)
    print(running.endpoint)  # stdout: the endpoint alone, for scripts
    print(f"listening on {_listening(running.endpoint)}", file=sys.stderr)
    return 0


def _listening(endpoint: str) -> str:
    host = endpoint.split("//", 1)[-1].rsplit(":", 1)[0].strip("[]")
    return f"{host} only (loopback: not reachable from other machines)"


@_user_errors
def _down(args: argparse.Namespace) -> int:
    print("stopped" if lifecycle.down(args.state_dir) else "not running")
    return 0


@_user_errors
def _status(args: argparse.Namespace) -> int:
    info = lifecycle.status(args.state_dir)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0 if info["running"] else 1
    if not info["running"]:
        print(f"not running (state dir {info['state_dir']})")
        return 1
    print(f"running at {info['endpoint']} (pid {info['pid']}) since {info['started_at']}")
    print(f"listening on {_listening(info['endpoint'])}")
    print(f"state dir {info['state_dir']}, time scale {info['time_scale']}")
    for label, count in info["holds"].items():
        print(f"  {label:28} {count}")
    for name, detail in info.get("extensions", {}).items():
        if detail:
            print(f"  {name}: {json.dumps(detail, default=str)}")
    return 0


@_user_errors
def _env(args: argparse.Namespace) -> int:
    print(lifecycle.env_exports(lifecycle.ensure_running(args.state_dir)))
    return 0


@_user_errors
def _flush(args: argparse.Namespace) -> int:
    endpoint = lifecycle.ensure_running(args.state_dir)
    report = lifecycle.flush(endpoint, timeout=args.timeout)
    print(json.dumps(report, indent=2, default=str))
    return 0
