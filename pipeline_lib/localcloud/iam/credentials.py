"""Temporary credentials of role sessions, as AWS hands them to a Lambda function (its
execution role) or a Step Functions integration: an `ASIA...` access key id, a secret and a
session token, mapped back to the session on every request that carries them."""
from __future__ import annotations

import secrets
import string
import threading
from datetime import datetime, timedelta, timezone

from .evaluation import Identity

__all__ = ["SessionCredentials"]

_KEY_ALPHABET = string.ascii_uppercase + string.digits


class SessionCredentials:
    """The sessions this cloud issued: access key id -> Identity. Thread-safe."""

    def __init__(self) -> None:
        self._by_key: dict[str, Identity] = {}
        self._by_identity: dict[Identity, dict[str, str]] = {}
        self._lock = threading.Lock()

    def issue(self, role_arn: str, session_name: str) -> dict[str, str]:
        """Credentials of `role_arn` for `session_name` (the same ones again for the same session:
        a warm worker keeps its credentials)."""
        identity = Identity(role_arn, session_name)
        with self._lock:
            found = self._by_identity.get(identity)
            if found is None:
                key = "ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
                found = {
                    "AccessKeyId": key,
                    "SecretAccessKey": secrets.token_urlsafe(30)[:40],
                    "SessionToken": secrets.token_urlsafe(96),
                    "Expiration": (datetime.now(timezone.utc) + timedelta(hours=12)).isoformat(timespec="seconds"),
                }
                self._by_identity[identity] = found
                self._by_key[key] = identity
            return dict(found)

    def identity(self, access_key_id: str) -> Identity | None:
        with self._lock:
            return self._by_key.get(access_key_id)
