"""Synthesize the CDK app in infra/ into a cloud assembly directory, without the CDK CLI.

The app runs in a subprocess with this interpreter (`app.synth()` writes the assembly to
`CDK_OUTDIR`), with the context the CLI would give it: infra/cdk.json's `context`, then
infra/cdk.context.json, then the caller's values. Helpers read the result: the stack template,
the file assets the local deploy must upload, and the validation (cdk-nag) report.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..stack import STACK_NAME
from .app import AppNotFound, find_app_dir

VALIDATION_REPORT = "validation-report.json"
STDERR_TAIL_LINES = 40


class SynthError(RuntimeError):
    """The app did not synthesize; the message carries the tail of its stderr."""


@dataclass(frozen=True)
class FileAsset:
    """One file asset of the assembly: what to upload (`source_path`, zipped when packaging is
    `zip`) to where (`bucket_name`/`object_key`; `${AWS::AccountId}` / `${AWS::Region}` are
    substituted when `asset_manifest` gets an account and region)."""

    asset_id: str
    source_path: Path
    packaging: str
    bucket_name: str
    object_key: str


def jsii_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` (default: os.environ) plus the settings that silence jsii's Node.js version banners."""
    out = dict(os.environ if env is None else env)
    # jsii compares this variable with the Node major version (e.g. "20"), not with "1".
    out.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", ",".join(str(v) for v in range(14, 31)))
    out.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
    out.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    return out


def app_context(app_dir: str | Path | None = None, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """The context the CDK CLI would pass: cdk.json, cdk.context.json, then `context`."""
    app_dir = Path(app_dir) if app_dir is not None else _app_dir(None)
    merged: dict[str, Any] = {}
    for name, key in (("cdk.json", "context"), ("cdk.context.json", None)):
        path = app_dir / name
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as e:
                raise SynthError(f"{path} is not valid JSON ({e})") from None
            merged.update(data.get(key, {}) if key else data)
    merged.update(context or {})
    return merged


def parse_context(pairs: list[str] | None) -> dict[str, str]:
    """`["items=100", "seed=7"]` -> {"items": "100", "seed": "7"} (as the CDK CLI's --context)."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"context {pair!r} is not key=value (e.g. items=1000)")
        out[key.strip()] = value
    return out


def synth(
    out_dir: str | Path,
    context: dict[str, Any] | None = None,
    *,
    app_dir: str | Path | None = None,
    python: str = sys.executable,
    timeout: float = 600,
) -> Path:
    """Synthesize the app into `out_dir`; return the path of the CdcWorkbench template."""
    out = Path(out_dir).resolve()
    app = _app_dir(app_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = jsii_env()
    env["CDK_OUTDIR"] = str(out)
    env["CDK_CONTEXT_JSON"] = json.dumps(app_context(app, context))
    try:
        proc = subprocess.run(
            [python, str(app / "app.py")], cwd=app, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise SynthError(f"synthesizing {app} took more than {timeout:.0f} s; is Node.js working (`node --version`)?") from None
    if proc.returncode != 0:
        raise SynthError(f"synthesizing {app} failed (exit {proc.returncode}):\n{_tail(proc.stderr)}")
    templates = template_paths(out)
    if STACK_NAME not in templates:
        raise SynthError(f"{out} has no {STACK_NAME} template (stacks: {sorted(templates)}):\n{_tail(proc.stderr)}")
    return templates[STACK_NAME]


def _app_dir(app_dir: str | Path | None) -> Path:
    try:
        return find_app_dir(app_dir)
    except AppNotFound as exc:
        raise SynthError(str(exc)) from None


def _tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:]) or "(no output on stderr)"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SynthError(f"{path} not found; synthesize first (python -m pipeline_lib synth --out {path.parent})") from None


def template_paths(out_dir: str | Path) -> dict[str, Path]:
    """Stack name -> template path, from the assembly's manifest.json."""
    out = Path(out_dir)
    manifest = _read_json(out / "manifest.json")
    paths = {}
    for artifact in manifest.get("artifacts", {}).values():
        if artifact.get("type") == "aws:cloudformation:stack":
            props = artifact.get("properties", {})
            paths[props.get("stackName") or artifact.get("displayName")] = out / props["templateFile"]
    return paths


def load_template(path: str | Path) -> dict[str, Any]:
    """The template as a dict."""
    return _read_json(Path(path))


def asset_manifest(
    out_dir: str | Path, stack_name: str = STACK_NAME, *, account: str | None = None, region: str | None = None
) -> list[FileAsset]:
    """The stack's file assets (Lambda code, the data set, the BucketDeployment handler/layer)."""
    out = Path(out_dir)
    manifest = _read_json(out / f"{stack_name}.assets.json")
    if manifest.get("dockerImages"):
        raise SynthError(f"{stack_name} has Docker image assets; the workbench expects file assets only")
    assets = []
    for asset_id, asset in sorted(manifest.get("files", {}).items()):
        source = asset["source"]
        for destination in asset["destinations"].values():
            assets.append(
                FileAsset(
                    asset_id=asset_id,
                    source_path=(out / source["path"]).resolve(),
                    packaging=source.get("packaging", "file"),
                    bucket_name=_substitute(destination["bucketName"], account, region),
                    object_key=_substitute(destination["objectKey"], account, region),
                )
            )
    return assets


def _substitute(text: str, account: str | None, region: str | None) -> str:
    if account is not None:
        text = text.replace("${AWS::AccountId}", account)
    if region is not None:
        text = text.replace("${AWS::Region}", region)
    return text


def validation_report(out_dir: str | Path) -> dict[str, Any] | None:
    """CDK's policy-validation report (cdk-nag findings), or None when nothing was reported."""
    path = Path(out_dir) / VALIDATION_REPORT
    return _read_json(path) if path.is_file() else None


def validation_violations(out_dir: str | Path) -> list[dict[str, Any]]:
    """Every violation (error or warning) in the validation report: one dict per finding."""
    report = validation_report(out_dir)
    if report is None:
        return []
    found = []
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            found.append({"plugin": plugin.get("summary", {}).get("pluginName", plugin.get("pluginName")), **violation})
    return found
