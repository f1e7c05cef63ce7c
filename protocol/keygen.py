"""``sitetruth-keygen DIR NAME``: make a CURVE key pair for one broker, rater node, frontend or operator.

Writes ``DIR/NAME.key`` (public: copy it to the broker's key directory for
the peer's role, or to every peer if NAME is the broker) and
``DIR/NAME.key_secret`` (secret: stays on the machine that uses it, mode
0600), in ZeroMQ's certificate file format: the files are made by
``zmq.auth.create_certificates`` itself, inside a private (0700) scratch
directory, so the secret key is never readable by others, not even for a
moment, and then moved into place. An existing pair is never overwritten
unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import enum
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.auth

from .security import PUBLIC_SUFFIX, SECRET_SUFFIX, KeyFileError, check_key_name, load_secret_certificate

__all__ = ["main", "make_key_pair", "ensure_cluster_keys", "ClusterKeys", "ExitCode"]


class ExitCode(enum.IntEnum):
    OK = 0
    ERROR = 1      # cannot write, or the key pair exists already
    USAGE = 2      # argparse's own code for bad arguments


EPILOG = """\
examples:
  # the broker's pair; copy broker.key to every rater node, frontend and operator
  sitetruth-keygen /etc/sitetruth/keys broker

  # one pair per rater node, made on that node; its public file goes to the
  # broker's rater key directory (the key's name is the file name: node7)
  sitetruth-keygen /etc/sitetruth/keys node7
  scp /etc/sitetruth/keys/node7.key broker-host:/etc/sitetruth/raters/

  # replace a pair (key rotation), then copy the new node7.key over the old
  # one on the broker: new connections need the new key (docs/security.md)
  sitetruth-keygen --force /etc/sitetruth/keys node7

files:
  DIR/NAME.key         public key; safe to copy and to publish
  DIR/NAME.key_secret  secret key (mode 0600); never leaves this machine

exit codes: 0 written, 1 not written (exists, or cannot write), 2 bad arguments
"""


def make_key_pair(directory: str | os.PathLike, name: str, *, force: bool = False) -> tuple[Path, Path]:
    """Write ``NAME.key`` and ``NAME.key_secret`` in *directory*; returns (public, secret) paths.

    Raises :class:`KeyFileError` when the name is unusable, a file exists
    (and not *force*) or the directory cannot be written.
    """
    check_key_name(name)
    directory = Path(directory)
    public, secret = directory / f"{name}{PUBLIC_SUFFIX}", directory / f"{name}{SECRET_SUFFIX}"
    if not force:
        existing = [p for p in (public, secret) if os.path.lexists(p)]
        if existing:
            raise KeyFileError(f"{existing[0]} exists already: not overwritten "
                               "(give --force to replace the pair; peers holding the old key must get the new one)")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".keygen-", dir=directory))  # mode 0700
    except OSError as e:
        raise KeyFileError(f"cannot write in {directory}: {e.strerror or e}") from e
    try:
        made_public, made_secret = (Path(p) for p in zmq.auth.create_certificates(scratch, name,
                                                                                   metadata={"name": name}))
        os.chmod(made_secret, 0o600)
        os.chmod(made_public, 0o644)
        load_secret_certificate(made_secret)  # what we hand out must read back
        for made, final in ((made_secret, secret), (made_public, public)):
            if force:
                os.replace(made, final)
            else:
                os.link(made, final)  # fails if the file appeared meanwhile: never clobber
    except FileExistsError as e:
        raise KeyFileError(f"{e.filename2 or e.filename} appeared while writing: not overwritten") from None
    except OSError as e:
        raise KeyFileError(f"cannot write the key pair in {directory}: {e.strerror or e}") from e
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return public, secret


@dataclass(frozen=True)
class ClusterKeys:
    """A whole single-machine key set: the broker's pair, one pair per role, and the role directories."""

    broker_secret: Path
    broker_public: Path
    rater_keys: Path
    client_keys: Path
    admin_keys: Path
    rater_secret: Path
    client_secret: Path
    admin_secret: Path


# Role directory, key name (as stats and logs show it) for the local peers.
_LOCAL_PEERS = (("raters", "local-rater"), ("clients", "local-frontend"), ("admins", "local-admin"))


def ensure_cluster_keys(state_dir: str | os.PathLike) -> ClusterKeys:
    """Make (first start) or reuse (later starts) a key set under ``STATE_DIR/keys``.

    Layout: ``keys/own/`` holds every pair (0700: the secrets), ``keys/raters``,
    ``keys/clients``, ``keys/admins`` the public files the broker admits.
    A pair already there is kept, so peers started earlier keep working; a
    public file missing from its role directory is copied back.
    """
    root = Path(state_dir) / "keys"
    own = root / "own"
    try:
        own.mkdir(parents=True, exist_ok=True)
        os.chmod(own, 0o700)
    except OSError as e:
        raise KeyFileError(f"cannot make the key directory {own}: {e.strerror or e}") from e
    paths: dict[str, Path] = {}
    for role_dir, name in (("", "broker"), *_LOCAL_PEERS):
        public, secret = own / f"{name}{PUBLIC_SUFFIX}", own / f"{name}{SECRET_SUFFIX}"
        if not (public.exists() and secret.exists()):
            make_key_pair(own, name, force=True)  # half a pair is no pair: make it whole
        load_secret_certificate(secret)  # refuse a damaged or opened-up secret now
        paths[name] = secret
        if role_dir:
            target = root / role_dir
            target.mkdir(exist_ok=True)
            published = target / public.name
            if not published.exists() or published.read_bytes() != public.read_bytes():
                tmp = target / f".{public.name}.tmp"
                tmp.write_bytes(public.read_bytes())
                os.replace(tmp, published)
    return ClusterKeys(broker_secret=paths["broker"], broker_public=own / f"broker{PUBLIC_SUFFIX}",
                       rater_keys=root / "raters", client_keys=root / "clients", admin_keys=root / "admins",
                       rater_secret=paths["local-rater"], client_secret=paths["local-frontend"],
                       admin_secret=paths["local-admin"])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sitetruth-keygen",
        description="Make a CURVE key pair (ZeroMQ certificate files) for the broker or one of its peers.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("directory", metavar="DIR", help="where to write the pair (made if missing)")
    parser.add_argument("name", metavar="NAME",
                        help="the key's name: letters, digits, '.', '_', '-' (the broker logs and audits it)")
    parser.add_argument("--force", action="store_true", help="replace an existing pair of that name")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_key_name(args.name)
    except KeyFileError as e:
        parser.error(str(e))
    try:
        public, secret = make_key_pair(args.directory, args.name, force=args.force)
    except KeyFileError as e:
        print(f"sitetruth-keygen: {e}", file=sys.stderr)
        return ExitCode.ERROR
    print(f"public key: {public}  (copy this one)")
    print(f"secret key: {secret}  (keep on this machine, mode 0600)")
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
