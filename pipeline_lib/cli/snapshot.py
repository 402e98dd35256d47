"""`python -m pipeline_lib local snapshot save|load|list NAME` — named states of the local cloud."""
from __future__ import annotations

import argparse
from datetime import datetime, timezone

from ..localcloud import lifecycle

__all__ = ["add_parser"]


def add_parser(local_subparsers: argparse._SubParsersAction) -> None:
    """Registers `snapshot` under `local` (called by cli/local.py)."""
    snap = local_subparsers.add_parser("snapshot", help="save, load or list named states of the local cloud")
    sub = snap.add_subparsers(dest="snapshot_command", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--state-dir", default=None, help="default: .workbench/ at the repository root")
        return p

    p = common(sub.add_parser("save", help="deliver what is in flight, then save the cloud's state as NAME"))
    p.add_argument("name")
    p.set_defaults(func=_save)
    p = common(sub.add_parser("load", help="return the cloud to snapshot NAME (in place when it runs)"))
    p.add_argument("name")
    p.set_defaults(func=_load)
    common(sub.add_parser("list", help="the saved snapshots")).set_defaults(func=_list)


def _user_errors(run):
    def wrapped(args: argparse.Namespace) -> int:
        from . import UsageError

        try:
            return run(args)
        except (lifecycle.LocalCloudError, ValueError) as exc:
            raise UsageError(str(exc)) from None

    return wrapped


@_user_errors
def _save(args: argparse.Namespace) -> int:
    from ..localcloud import snapshot

    saved = snapshot.save(args.name, args.state_dir)
    print(f"saved {args.name} ({saved['bytes']:,} bytes in {saved['seconds']:.2f}s)")
    return 0


@_user_errors
def _load(args: argparse.Namespace) -> int:
    from ..localcloud import snapshot

    running = snapshot.load(args.name, args.state_dir)
    print(f"loaded {args.name}; running at {running.endpoint}")
    return 0


@_user_errors
def _list(args: argparse.Namespace) -> int:
    from ..localcloud import snapshot

    found = snapshot.snapshots(args.state_dir)
    if not found:
        print("no snapshots")
    for entry in found:
        when = datetime.fromtimestamp(entry["saved_at"], timezone.utc).isoformat(timespec="seconds") if entry.get("saved_at") else "?"
        print(f"{entry['name']:30} {when}  {entry['bytes']:>12,} bytes")
    return 0
