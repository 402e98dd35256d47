"""The repository holds no credentials, no real AWS account ids and no endpoints of real accounts.

Every tracked file (`git ls-files`) is scanned. Allowed: the local cloud's dummy account
123456789012 and the AWS documentation's example accounts (111122223333, 444455556666), example
keys that say EXAMPLE, AWS's public service endpoints (`<service>[.<region>].amazonaws.com`)
and service principals (`logging.s3.amazonaws.com`).
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ACCOUNTS = {"123456789012", "111122223333", "444455556666"}

ACCESS_KEY = re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b")
SECRET_KEY = re.compile(r"(?i)(?:aws_secret_access_key|secret_?access_?key|aws_secret)[\"'\s:=]+([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])")
PRIVATE_KEY = re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----")
SESSION_TOKEN = re.compile(r"(?i)aws_session_token[\"'\s:=]+([A-Za-z0-9/+=]{100,})")
ACCOUNT_IN_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:(\d{12}):")
ACCOUNT_NAMED = re.compile(r"(?i)account[_ -]?id[\"'\s:=]{1,4}(\d{12})\b")
ACCOUNT_IN_HOST = re.compile(r"\b(\d{12})\.(?:dkr\.ecr|signin\.aws)")
HOST = re.compile(r"\b((?:[a-z0-9-]+\.)+(?:amazonaws\.com(?:\.cn)?|cloudfront\.net|on\.aws|awsapps\.com))\b", re.IGNORECASE)
# AWS service principals that look like hosts (they name a service, not an account).
SERVICE_PRINCIPALS = {"logging.s3.amazonaws.com", "delivery.logs.amazonaws.com"}
REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d$")


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def findings(text: str) -> list[str]:
    """What in `text` looks like a credential, a real account id or a real account's endpoint."""
    found = []
    found += [f"access key id {m}" for m in ACCESS_KEY.findall(text) if "EXAMPLE" not in m]
    found += [f"secret key {m[:6]}..." for m in SECRET_KEY.findall(text) if "EXAMPLE" not in m]
    found += [f"session token {m[:6]}..." for m in SESSION_TOKEN.findall(text)]
    found += ["private key" for _ in PRIVATE_KEY.findall(text)]
    for pattern in (ACCOUNT_IN_ARN, ACCOUNT_NAMED, ACCOUNT_IN_HOST):
        found += [f"account id {m}" for m in pattern.findall(text) if m not in EXAMPLE_ACCOUNTS]
    for host in HOST.findall(text):
        labels = host.lower().split(".")
        if host.lower() in SERVICE_PRINCIPALS:
            continue
        if labels[-2:] == ["amazonaws", "com"] or labels[-3:] == ["amazonaws", "com", "cn"]:
            head = labels[: -3 if labels[-1] == "cn" else -2]
            # <service>.amazonaws.com or <service>.<region>.amazonaws.com: AWS's public endpoints.
            if len(head) == 1 or (len(head) == 2 and REGION.match(head[1])):
                continue
        found.append(f"endpoint {host}")
    return found


def test_scanner_finds_what_it_looks_for():
    # Made-up values in the shapes the scan must catch (none of them is real).
    planted = "\n".join([
        "key = " + "AKIA" + "Q" * 16,
        "aws_secret_access_key = " + "Zx9" * 13 + "Z",
        "-----BEGIN " + "RSA PRIVATE KEY-----",
        "arn:aws:iam::" + "98765432" + "1098:role/x",
        "https://abc123xyz." + "execute-api.eu-west-1.amazonaws.com/prod",
        "my-bucket." + "s3.amazonaws.com",
    ])
    kinds = [f.split(" ")[0] for f in findings(planted)]
    assert kinds == ["access", "secret", "private", "account", "endpoint", "endpoint"], findings(planted)
    allowed = ("arn:aws:iam::123456789012:role/r AKIAIOSFODNN7EXAMPLE https://s3.amazonaws.com "
               "https://glue.us-east-1.amazonaws.com logging.s3.amazonaws.com")
    assert findings(allowed) == []


def test_no_credentials_account_ids_or_account_endpoints_in_tracked_files():
    files = tracked_files()
    assert len(files) > 100  # the whole repository, not an empty listing
    problems = []
    for path in files:
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        text = path.read_bytes().decode("utf-8", "ignore")
        problems += [f"{path.relative_to(ROOT)}: {f}" for f in findings(text)]
    assert problems == []


