"""`python -m pipeline_lib local faults set|show|clear|crash` — fault injection of a running cloud."""
from __future__ import annotations

import argparse
import json

from ..localcloud import lifecycle
from ..localcloud.faults import client
from ..localcloud.faults.config import ENV_VAR, FILTERS, RATES, FaultConfig, FaultConfigError

__all__ = ["add_parser"]

_HELP = "\n".join([f"  {name:22} {what}" for name, what in RATES.items()]
                  + [f"  {name:22} {what}" for name, what in FILTERS.items()]
                  + [f"  {'seed':22} seeds every rate's generator (same seed, same calls: same faults)"])


def add_parser(local_sub: argparse._SubParsersAction, common) -> None:
    faults = local_sub.add_parser(
        "faults", help="inject AWS's failures at seeded rates (also PIPELINE_FAULTS at `local up`)",
        description=f"Rates are probabilities in [0, 1]. Settings:\n{_HELP}\n\n"
                    f"At start the cloud reads {ENV_VAR}, e.g. {ENV_VAR}=dynamodb_throttle=0.1,seed=7.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = faults.add_subparsers(dest="faults_command", metavar="ACTION", required=True)
    p = common(sub.add_parser("set", help="change settings: NAME=VALUE ..."))
    p.add_argument("settings", nargs="+", metavar="NAME=VALUE")
    p.add_argument("--replace", action="store_true", help="start from no faults instead of the current settings")
    p.set_defaults(func=_set)
    common(sub.add_parser("show", help="the settings and what was injected so far")).set_defaults(func=_show)
    common(sub.add_parser("clear", help="no faults from now on")).set_defaults(func=_clear)
    common(sub.add_parser("crash", help="kill the whole cloud at once, as `kill -9` (then `local up`)")
           ).set_defaults(func=_crash)


def _running(args: argparse.Namespace) -> str:
    running = lifecycle.find(args.state_dir)
    if running is None:
        raise lifecycle.LocalCloudError(
            "no local cloud is running; start one with `python -m pipeline_lib local up` "
            f"(or set {ENV_VAR} before `local up`)")
    return running.endpoint


def _print(answer: dict) -> None:
    active = {k: v for k, v in answer["config"].items() if k in RATES and v}
    print("faults: " + (", ".join(f"{k}={v}" for k, v in active.items()) if active else "none"),
          f"(seed {answer['config']['seed']})")
    for name in FILTERS:
        if answer["config"].get(name):
            print(f"  {name}: {answer['config'][name]}")
    if answer.get("injected"):
        print("injected: " + json.dumps(answer["injected"]))


def _set(args: argparse.Namespace) -> int:
    from . import UsageError

    try:
        settings = FaultConfig.parse_words(args.settings)  # checked here, before the cloud sees it
        given = {name: getattr(settings, name) for name in _names(args.settings)}
        _print(client.set_faults(_running(args), given, replace=args.replace))
    except (FaultConfigError, lifecycle.LocalCloudError) as exc:
        raise UsageError(str(exc)) from None
    return 0


def _names(words: list[str]) -> list[str]:
    return [part.split("=", 1)[0].strip() for word in words for part in word.split(",") if part.strip()]


def _show(args: argparse.Namespace) -> int:
    from . import UsageError

    try:
        _print(client.show(_running(args)))
    except lifecycle.LocalCloudError as exc:
        raise UsageError(str(exc)) from None
    return 0


def _clear(args: argparse.Namespace) -> int:
    from . import UsageError

    try:
        _print(client.clear(_running(args)))
    except lifecycle.LocalCloudError as exc:
        raise UsageError(str(exc)) from None
    return 0


def _crash(args: argparse.Namespace) -> int:
    from . import UsageError

    try:
        client.crash(_running(args))
    except lifecycle.LocalCloudError as exc:
        raise UsageError(str(exc)) from None
    print("crashed (start it again with `python -m pipeline_lib local up`)")
    return 0
