"""CURVE key files laid out for tests as the README lays them out for operators.

``root/broker/`` holds the broker's pair; ``root/own/`` every peer's pair;
``root/<role>/`` (raters, clients, admins) the public key of each peer the
broker should admit in that role. A peer listed with no role has a pair the
broker does not know.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from protocol.keygen import make_key_pair
from protocol.security import ClientKeys, KeySet, load_client_keys

__all__ = ["lay_out_keys", "broker_keyset", "peer_keys", "broker_key_flags"]


def lay_out_keys(root: Path, peers: Iterable[tuple[str | None, str]]) -> Path:
    """Write the broker's pair and one pair per ``(role directory or None, name)``; returns ``root``."""
    make_key_pair(root / "broker", "broker")
    for role, name in peers:
        make_key_pair(root / "own", name)
        if role:
            (root / role).mkdir(exist_ok=True)
            (root / role / f"{name}.key").write_bytes((root / "own" / f"{name}.key").read_bytes())
    return root


def broker_keyset(root: Path) -> KeySet:
    return KeySet.load(root / "broker" / "broker.key_secret", raters=root / "raters", clients=root / "clients",
                       admins=root / "admins")


def peer_keys(root: Path, name: str) -> ClientKeys:
    """What peer ``name`` connects with: its own secret key and the broker's public key."""
    return load_client_keys(root / "own" / f"{name}.key_secret", root / "broker" / "broker.key")


def broker_key_flags(root: Path) -> list[str]:
    """The key flags of a ``sitetruth-broker`` started on this layout."""
    return ["--curve-secret", str(root / "broker" / "broker.key_secret"), "--rater-keys", str(root / "raters"),
            "--client-keys", str(root / "clients"), "--admin-keys", str(root / "admins")]
