"""CURVE keys: reading ZeroMQ certificate files and putting them on sockets.

Where it sits: every process that talks to the broker across machines
authenticates with CURVE. Keys live in ZeroMQ's certificate file format (as
``zmq.auth.create_certificates`` writes it and ``sitetruth-keygen`` makes
it): ``NAME.key`` holds only the public key and may be copied anywhere;
``NAME.key_secret`` holds both keys and must stay private (mode 0600).

* A peer (raterd, frontend, ``zmq-monitor``) loads its own secret
  certificate and the broker's public one with :func:`load_client_keys` and
  calls :meth:`ClientKeys.apply` on each socket before ``connect``.
* The broker describes its side with a :class:`KeySet`: its own secret
  certificate plus one directory of allowed public keys per role (raters,
  clients, admins). A key's *name* is its file's stem (``raters/node7.key``
  is the rater ``node7``); the name is what logs, stats and the audit trail
  show, so it must be a plain word.

Every file problem (missing, unreadable, not a certificate, a secret file
readable by others, a "public" file that holds a secret key) raises
:class:`KeyFileError` with the path and what to do about it; nothing here
lets a bad key through to become a confusing handshake failure later.
"""

from __future__ import annotations

import enum
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import zmq
from zmq.utils import z85
from zmq.utils.monitor import recv_monitor_message

from .errors import SiteTruthError

__all__ = [
    "SecurityError",
    "KeyFileError",
    "Role",
    "KEY_ROLES",
    "Peer",
    "KeyPair",
    "ClientKeys",
    "KeySet",
    "NAME_PATTERN",
    "check_key_name",
    "load_secret_certificate",
    "load_public_certificate",
    "load_client_keys",
    "load_role_directory",
    "client_keys_from_options",
    "keyset_from_options",
    "HandshakeWatch",
    "PUBLIC_SUFFIX",
    "SECRET_SUFFIX",
]

PUBLIC_SUFFIX = ".key"
SECRET_SUFFIX = ".key_secret"

# A key name ends up in file names, in the ZAP User-Id "role:name", in logs
# and in the store's audit column: a short plain word, no separators.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

# Any certificate file is tiny; a big one is not a certificate.
_MAX_CERT_BYTES = 64 * 1024


class SecurityError(SiteTruthError):
    """Base of the errors about keys, roles and secure endpoints."""


class KeyFileError(SecurityError, ValueError):
    """A certificate file or key directory that cannot be used as given."""


class Role(enum.Enum):
    """What an authenticated key may do; one directory of public keys per role."""

    RATER = "rater"    # raterd workers, on the broker's rater socket
    CLIENT = "client"  # frontends, on the client socket
    ADMIN = "admin"    # zmq-monitor operators, on the client socket
    # No keys configured (insecure mode, loopback endpoints only): every peer
    # is a local process and may send what any role may. Never a key's role.
    LOCAL = "local"


KEY_ROLES = (Role.RATER, Role.CLIENT, Role.ADMIN)


@dataclass(frozen=True)
class Peer:
    """Who sent a message: the role and key name from the authenticated key."""

    role: Role
    name: str

    @property
    def user_id(self) -> str:
        """The ZAP User-Id the broker's authenticator gives this peer: ``"role:name"``."""
        return f"{self.role.value}:{self.name}"

    @classmethod
    def from_user_id(cls, text: str) -> Peer:
        """The Peer of a User-Id that the broker's authenticator wrote."""
        role, sep, name = text.partition(":")
        try:
            if sep and Role(role) in KEY_ROLES:
                return cls(Role(role), check_key_name(name))
        except ValueError:  # an unknown role, or a name that is no key name (KeyFileError)
            pass
        raise SecurityError(f"ZAP User-Id {text[:80]!r} is not 'role:name' with a known role")


def check_key_name(name: str) -> str:
    """*name* if it is a usable key name, else :class:`KeyFileError` saying why."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise KeyFileError(
            f"key name {str(name)[:80]!r} is not usable: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (it becomes a file name and the key's name in logs)")
    return name


@dataclass(frozen=True)
class KeyPair:
    """A CURVE key pair as z85 text (40 characters each), and the file it came from."""

    public: bytes
    secret: bytes
    path: Path


def _read_certificate(path: Path, what: str) -> tuple[bytes | None, bytes | None]:
    """(public, secret) z85 keys of a certificate file; either may be missing."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyFileError(f"{what} {path} does not exist (make one with: sitetruth-keygen DIR NAME)") from None
    except OSError as e:
        raise KeyFileError(f"{what} {path} cannot be read: {e.strerror or e}") from e
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"{what} {path} is not a regular file")
    if st.st_size > _MAX_CERT_BYTES:
        raise KeyFileError(f"{what} {path} is {st.st_size} bytes: not a ZeroMQ certificate")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise KeyFileError(f"{what} {path} cannot be read: {e.strerror or e}") from e
    public = secret = None
    # The same reading as zmq.auth.load_certificate, but each key is checked
    # and a missing file or a stray value is reported, not a bare ValueError.
    for line in data.splitlines():
        line = line.strip()
        if line.startswith(b"#"):
            continue
        for field in (b"public-key", b"secret-key"):
            if line.startswith(field):
                value = line.split(b"=", 1)[1].strip(b" \t'\"") if b"=" in line else b""
                _check_z85(value, path, field.decode())
                if field == b"public-key":
                    public = value
                else:
                    secret = value
    return public, secret


def _check_z85(value: bytes, path: Path, field: str) -> None:
    try:
        ok = len(value) == 40 and len(z85.decode(value)) == 32
    except (ValueError, KeyError, TypeError, OverflowError, IndexError):
        ok = False
    if not ok:
        raise KeyFileError(f"{path}: {field} is not a 40-character Z85 CURVE key")


def load_secret_certificate(path: str | os.PathLike) -> KeyPair:
    """Own key pair from a ``NAME.key_secret`` file, which nobody else may read."""
    path = Path(path)
    public, secret = _read_certificate(path, "secret key file")
    if secret is None:
        hint = f" (give {path.with_suffix(SECRET_SUFFIX).name})" if path.suffix == PUBLIC_SUFFIX else ""
        raise KeyFileError(f"{path} holds no secret key: it is a public certificate{hint}")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(f"secret key file {path} is readable or writable by others (mode {mode:04o}): "
                           f"run chmod 600 {path}")
    derived = zmq.curve_public(secret)  # both z85 text
    if public is None:
        public = derived
    elif public != derived:
        raise KeyFileError(f"{path}: the public key does not belong to the secret key (file edited or mixed up)")
    return KeyPair(public=public, secret=secret, path=path)


def load_public_certificate(path: str | os.PathLike) -> bytes:
    """The z85 public key of a ``NAME.key`` file (a file holding a secret key is refused)."""
    path = Path(path)
    public, secret = _read_certificate(path, "public key file")
    if secret is not None:
        raise KeyFileError(f"{path} holds a secret key: only the public NAME{PUBLIC_SUFFIX} file may be copied "
                           "to other machines; treat this secret key as leaked and make a new pair")
    if public is None:
        raise KeyFileError(f"{path} holds no public-key line: not a ZeroMQ certificate")
    return public


@dataclass(frozen=True)
class ClientKeys:
    """What a peer of the broker needs: its own key pair and the broker's public key."""

    own: KeyPair
    server_public: bytes

    def apply(self, sock: zmq.Socket) -> None:
        """Make *sock* a CURVE client of the broker; call before ``connect``."""
        sock.curve_secretkey = self.own.secret
        sock.curve_publickey = self.own.public
        sock.curve_serverkey = self.server_public


def load_client_keys(secret_path: str | os.PathLike, broker_public_path: str | os.PathLike) -> ClientKeys:
    """Own secret certificate + the broker's public certificate -> :class:`ClientKeys`."""
    return ClientKeys(own=load_secret_certificate(secret_path),
                      server_public=load_public_certificate(broker_public_path))


def load_role_directory(directory: str | os.PathLike, role: Role) -> dict[bytes, Peer]:
    """Every ``*.key`` in *directory* -> {z85 public key: Peer(role, file stem)}.

    Secret files (``*.key_secret``) are ignored if someone left one there;
    other files are ignored too, so a README or an editor's backup does no harm.
    """
    directory = Path(directory)
    try:
        entries = sorted(directory.iterdir())
    except FileNotFoundError:
        raise KeyFileError(f"{role.value} key directory {directory} does not exist") from None
    except NotADirectoryError:
        raise KeyFileError(f"{role.value} key directory {directory} is not a directory") from None
    except OSError as e:
        raise KeyFileError(f"{role.value} key directory {directory} cannot be read: {e.strerror or e}") from e
    keys: dict[bytes, Peer] = {}
    for path in entries:
        if path.suffix != PUBLIC_SUFFIX or path.name.startswith("."):
            continue
        name = path.stem
        try:
            check_key_name(name)
        except KeyFileError as e:
            raise KeyFileError(f"{path}: {e}") from None
        public = load_public_certificate(path)
        if public in keys:
            raise KeyFileError(f"{path} holds the same key as {keys[public].name}{PUBLIC_SUFFIX}: "
                               "one key, one name (remove one of the two)")
        keys[public] = Peer(role, name)
    return keys


@dataclass(frozen=True)
class KeySet:
    """The broker's side of CURVE: its own key pair and where each role's public keys live.

    A role whose directory is ``None`` has no keys (e.g. no admin on a
    cluster that is watched but never steered).
    """

    server: KeyPair
    raters: Path | None
    clients: Path | None
    admins: Path | None

    @classmethod
    def load(cls, secret_path: str | os.PathLike, *, raters: str | os.PathLike | None,
             clients: str | os.PathLike | None, admins: str | os.PathLike | None) -> KeySet:
        """Read the broker's secret certificate and check every directory once, now."""
        keyset = cls(server=load_secret_certificate(secret_path),
                     raters=None if raters is None else Path(raters),
                     clients=None if clients is None else Path(clients),
                     admins=None if admins is None else Path(admins))
        keyset.peers()  # a bad directory fails at start, not at the first handshake
        return keyset

    def directories(self) -> dict[Role, Path]:
        found = {Role.RATER: self.raters, Role.CLIENT: self.clients, Role.ADMIN: self.admins}
        return {role: path for role, path in found.items() if path is not None}

    def peers(self) -> dict[bytes, Peer]:
        """Every allowed public key (z85) -> its Peer, read from the directories now.

        A key may hold one role only: the same key in two directories is
        refused, so the User-Id of a connection never depends on which
        directory happened to be read first.
        """
        merged: dict[bytes, Peer] = {}
        for role, directory in self.directories().items():
            for public, peer in load_role_directory(directory, role).items():
                if public == self.server.public:
                    raise KeyFileError(f"{directory}/{peer.name}{PUBLIC_SUFFIX} is the broker's own key: "
                                       "give each peer a key pair of its own")
                if public in merged:
                    other = merged[public]
                    raise KeyFileError(f"{directory}/{peer.name}{PUBLIC_SUFFIX} is also the {other.role.value} "
                                       f"key {other.name!r}: one key may hold one role; make another pair")
                merged[public] = peer
        return merged


def client_keys_from_options(curve_secret: str | os.PathLike | None,
                             broker_public_key: str | os.PathLike | None) -> ClientKeys | None:
    """``--curve-secret`` + ``--broker-public-key`` of a peer -> ClientKeys; neither -> None (insecure mode).

    One without the other is a configuration error, said as such, rather
    than a connection that silently fails its handshake.
    """
    if curve_secret is None and broker_public_key is None:
        return None
    if curve_secret is None:
        raise KeyFileError("--broker-public-key needs --curve-secret too (this process's own NAME.key_secret)")
    if broker_public_key is None:
        raise KeyFileError("--curve-secret needs --broker-public-key too (the broker's broker.key file)")
    return load_client_keys(curve_secret, broker_public_key)


def keyset_from_options(curve_secret: str | os.PathLike | None, *, rater_keys: str | os.PathLike | None,
                        client_keys: str | os.PathLike | None,
                        admin_keys: str | os.PathLike | None) -> KeySet | None:
    """The broker's ``--curve-secret`` and ``--rater-keys/--client-keys/--admin-keys`` -> KeySet; none -> None."""
    dirs = {"--rater-keys": rater_keys, "--client-keys": client_keys, "--admin-keys": admin_keys}
    given = [flag for flag, value in dirs.items() if value is not None]
    if curve_secret is None:
        if given:
            raise KeyFileError(f"{', '.join(given)} need --curve-secret too (the broker's broker.key_secret)")
        return None
    if not given:
        raise KeyFileError("--curve-secret without --rater-keys, --client-keys or --admin-keys: "
                           "no peer could connect")
    return KeySet.load(curve_secret, raters=rater_keys, clients=client_keys, admins=admin_keys)


class HandshakeWatch:
    """Why a connection to the broker is not up, read from the socket's monitor events.

    With ``IMMEDIATE`` a refused key only shows as "no broker connected";
    this tells the operator which of the usual mistakes it is. Create it
    before ``connect``; :meth:`close` before closing the socket. Same thread
    as the socket.
    """

    _EVENTS = (zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH
               | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)
    # Monitor events are few per connection attempt; read at most this many per call.
    _MAX_EVENTS = 1000

    def __init__(self, sock: zmq.Socket) -> None:
        self._sock = sock
        self._monitor = sock.get_monitor_socket(events=self._EVENTS)
        self._last: tuple[int, int] | None = None

    def failure(self) -> str | None:
        """A sentence on the latest failed handshake, or None (none seen, or the latest succeeded)."""
        for _ in range(self._MAX_EVENTS):
            try:
                event = recv_monitor_message(self._monitor, zmq.NOBLOCK)
            except zmq.Again:
                break
            self._last = (int(event["event"]), int(event["value"]))
        if self._last is None:
            return None
        kind, value = self._last
        if kind == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            return (f"the broker refused our key (status {value}): its public file is not in the broker's key "
                    "directory for this role, or is in another role's directory")
        if kind == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
            return ("security mismatch: one side uses CURVE keys and the other does not "
                    "(give both the keys, or neither on a loopback-only cluster)")
        if kind == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            return "CURVE handshake failed: is the broker public key we were given the broker's own?"
        return None

    def close(self) -> None:
        try:
            self._sock.disable_monitor()
        except zmq.ZMQError:
            pass
        self._monitor.close(linger=0)
