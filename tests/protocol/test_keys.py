"""Key files: sitetruth-keygen as an operator runs it, and loading keys with clear errors."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
import zmq
import zmq.auth

from protocol.keygen import make_key_pair
from protocol.security import (
    KeyFileError,
    KeySet,
    Peer,
    Role,
    SecurityError,
    load_client_keys,
    load_public_certificate,
    load_role_directory,
    load_secret_certificate,
)


def keygen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "protocol.keygen", *args], capture_output=True, text=True,
                          timeout=60)


def test_keygen_writes_a_zeromq_certificate_pair_with_a_private_secret(tmp_path):
    r = keygen(str(tmp_path / "keys"), "node7")
    assert r.returncode == 0, r.stderr
    public, secret = tmp_path / "keys" / "node7.key", tmp_path / "keys" / "node7.key_secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    # pyzmq's own reader understands both files, and they hold one pair.
    pub_only, none = zmq.auth.load_certificate(public)
    pub, sec = zmq.auth.load_certificate(secret)
    assert none is None and pub_only == pub and zmq.curve_public(sec) == pub
    assert str(public) in r.stdout and str(secret) in r.stdout
    assert [p.name for p in (tmp_path / "keys").iterdir()] != [] and not any(
        p.name.startswith(".keygen-") for p in (tmp_path / "keys").iterdir())


def test_keygen_refuses_to_overwrite_without_force(tmp_path):
    assert keygen(str(tmp_path), "broker").returncode == 0
    before = (tmp_path / "broker.key_secret").read_bytes()
    r = keygen(str(tmp_path), "broker")
    assert r.returncode == 1 and "exists already" in r.stderr and "--force" in r.stderr
    assert (tmp_path / "broker.key_secret").read_bytes() == before
    r = keygen("--force", str(tmp_path), "broker")
    assert r.returncode == 0, r.stderr
    after = (tmp_path / "broker.key_secret").read_bytes()
    assert after != before
    assert load_secret_certificate(tmp_path / "broker.key_secret").public == \
        load_public_certificate(tmp_path / "broker.key")


def test_keygen_refuses_when_only_one_file_of_the_pair_exists(tmp_path):
    (tmp_path / "x.key").write_text("not mine")
    with pytest.raises(KeyFileError, match="x.key exists already"):
        make_key_pair(tmp_path, "x")
    assert not (tmp_path / "x.key_secret").exists() and (tmp_path / "x.key").read_text() == "not mine"


@pytest.mark.parametrize("name", ["", "a:b", "../up", "a/b", "-flag", "x" * 65, "sp ace"])
def test_keygen_refuses_names_that_cannot_be_a_key_name(tmp_path, name):
    r = keygen(str(tmp_path), name) if not name.startswith("-") else keygen(str(tmp_path), "--", name)
    assert r.returncode == 2 and "key name" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_keygen_reports_an_unwritable_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = keygen(str(blocker / "keys"), "n")
    assert r.returncode == 1 and "cannot write" in r.stderr


def test_keygen_help_is_plain_text_with_examples():
    r = keygen("--help")
    assert r.returncode == 0
    assert "examples:" in r.stdout and "sitetruth-keygen /etc/sitetruth/keys broker" in r.stdout
    assert "\x1b[" not in r.stdout


def test_secret_certificate_errors_say_what_to_do(tmp_path):
    make_key_pair(tmp_path, "n")
    secret, public = tmp_path / "n.key_secret", tmp_path / "n.key"
    with pytest.raises(KeyFileError, match="does not exist .*sitetruth-keygen"):
        load_secret_certificate(tmp_path / "missing.key_secret")
    with pytest.raises(KeyFileError, match=r"holds no secret key.*give n\.key_secret"):
        load_secret_certificate(public)
    os.chmod(secret, 0o640)
    with pytest.raises(KeyFileError, match=r"mode 0640.*chmod 600"):
        load_secret_certificate(secret)
    os.chmod(secret, 0o600)
    assert load_secret_certificate(secret).public == load_public_certificate(public)
    with pytest.raises(KeyFileError, match="not a regular file"):
        load_secret_certificate(tmp_path)


def test_a_mismatched_or_damaged_certificate_is_refused(tmp_path):
    make_key_pair(tmp_path, "a")
    make_key_pair(tmp_path, "b")
    a_text = (tmp_path / "a.key_secret").read_text()
    b_public = load_public_certificate(tmp_path / "b.key").decode()
    mixed = tmp_path / "mixed.key_secret"
    mixed.write_text(a_text.replace(load_public_certificate(tmp_path / "a.key").decode(), b_public))
    os.chmod(mixed, 0o600)
    with pytest.raises(KeyFileError, match="does not belong to the secret key"):
        load_secret_certificate(mixed)
    damaged = tmp_path / "damaged.key"
    damaged.write_text('curve\n    public-key = "tooshort"\n')
    with pytest.raises(KeyFileError, match="not a 40-character Z85"):
        load_public_certificate(damaged)
    empty = tmp_path / "empty.key"
    empty.write_text("# nothing\n")
    with pytest.raises(KeyFileError, match="no public-key line"):
        load_public_certificate(empty)


def test_a_secret_file_given_as_a_public_key_is_refused(tmp_path):
    make_key_pair(tmp_path, "broker")
    leaked = tmp_path / "leaked.key"
    leaked.write_bytes((tmp_path / "broker.key_secret").read_bytes())
    with pytest.raises(KeyFileError, match="holds a secret key.*leaked"):
        load_client_keys(tmp_path / "broker.key_secret", leaked)


def test_role_directory_names_keys_by_file_stem_and_ignores_other_files(tmp_path):
    raters = tmp_path / "raters"
    make_key_pair(raters, "node1")
    make_key_pair(raters, "node2")
    (raters / "README").write_text("public keys of rater nodes\n")
    keys = load_role_directory(raters, Role.RATER)
    assert sorted(p.name for p in keys.values()) == ["node1", "node2"]  # secrets left there are not keys
    assert keys[load_public_certificate(raters / "node1.key")] == Peer(Role.RATER, "node1")
    with pytest.raises(KeyFileError, match="does not exist"):
        load_role_directory(tmp_path / "nope", Role.ADMIN)


def test_keyset_refuses_one_key_in_two_roles_and_the_brokers_own_key(tmp_path):
    make_key_pair(tmp_path / "own", "broker")
    for d in ("raters", "clients", "admins"):
        (tmp_path / d).mkdir()
    make_key_pair(tmp_path / "raters", "node1")
    dirs = {d: tmp_path / d for d in ("raters", "clients", "admins")}
    ks = KeySet.load(tmp_path / "own" / "broker.key_secret", **dirs)
    assert {p.user_id for p in ks.peers().values()} == {"rater:node1"}
    (tmp_path / "admins" / "ops.key").write_bytes((tmp_path / "raters" / "node1.key").read_bytes())
    with pytest.raises(KeyFileError, match="also the rater key 'node1'"):
        KeySet.load(tmp_path / "own" / "broker.key_secret", **dirs)
    (tmp_path / "admins" / "ops.key").unlink()
    (tmp_path / "clients" / "fe.key").write_bytes((tmp_path / "own" / "broker.key").read_bytes())
    with pytest.raises(KeyFileError, match="the broker's own key"):
        KeySet.load(tmp_path / "own" / "broker.key_secret", **dirs)
    # A role with no directory has no keys.
    (tmp_path / "clients" / "fe.key").unlink()
    ks = KeySet.load(tmp_path / "own" / "broker.key_secret", raters=dirs["raters"], clients=None, admins=None)
    assert list(ks.directories()) == [Role.RATER]


def test_user_id_round_trip_and_refusal():
    assert Peer.from_user_id("admin:ops-1") == Peer(Role.ADMIN, "ops-1")
    assert Peer(Role.RATER, "n").user_id == "rater:n"
    for bad in ("", "rater", "root:x", "rater:", "rater:a:b", "rater:a/b", "local:x"):
        with pytest.raises(SecurityError):
            Peer.from_user_id(bad)


def test_client_keys_authenticate_against_a_curve_server(tmp_path):
    make_key_pair(tmp_path, "broker")
    make_key_pair(tmp_path, "fe")
    server_pair = load_secret_certificate(tmp_path / "broker.key_secret")
    keys = load_client_keys(tmp_path / "fe.key_secret", tmp_path / "broker.key")
    ctx = zmq.Context()
    try:
        server = ctx.socket(zmq.ROUTER)
        server.linger = 0
        server.curve_server = True
        server.curve_secretkey = server_pair.secret
        port = server.bind_to_random_port("tcp://127.0.0.1")
        client = ctx.socket(zmq.DEALER)
        client.linger = 0
        keys.apply(client)
        client.connect(f"tcp://127.0.0.1:{port}")
        client.send(b"hello")
        assert server.poll(5000), "a correctly keyed client could not talk to the CURVE server"
        assert server.recv_multipart()[1] == b"hello"
    finally:
        ctx.destroy(linger=0)


def test_cluster_key_set_is_made_once_and_reused(tmp_path):
    from protocol.keygen import ensure_cluster_keys

    first = ensure_cluster_keys(tmp_path / "state")
    assert stat.S_IMODE((tmp_path / "state" / "keys" / "own").stat().st_mode) == 0o700
    keyset = KeySet.load(first.broker_secret, raters=first.rater_keys, clients=first.client_keys,
                         admins=first.admin_keys)
    assert sorted(p.user_id for p in keyset.peers().values()) == [
        "admin:local-admin", "client:local-frontend", "rater:local-rater"]
    for secret in (first.rater_secret, first.client_secret, first.admin_secret):
        keys = load_client_keys(secret, first.broker_public)
        assert keys.own.public in keyset.peers()
    before = first.broker_secret.read_bytes()
    (first.rater_keys / "local-rater.key").unlink()  # an operator tidied up by mistake
    again = ensure_cluster_keys(tmp_path / "state")
    assert again == first and again.broker_secret.read_bytes() == before
    assert (again.rater_keys / "local-rater.key").exists()


def test_key_options_come_in_pairs(tmp_path):
    from protocol.security import client_keys_from_options, keyset_from_options

    make_key_pair(tmp_path, "broker")
    make_key_pair(tmp_path, "fe")
    (tmp_path / "clients").mkdir()
    assert client_keys_from_options(None, None) is None
    assert keyset_from_options(None, rater_keys=None, client_keys=None, admin_keys=None) is None
    with pytest.raises(KeyFileError, match="needs --broker-public-key"):
        client_keys_from_options(tmp_path / "fe.key_secret", None)
    with pytest.raises(KeyFileError, match="needs --curve-secret"):
        client_keys_from_options(None, tmp_path / "broker.key")
    with pytest.raises(KeyFileError, match="--client-keys need --curve-secret"):
        keyset_from_options(None, rater_keys=None, client_keys=tmp_path / "clients", admin_keys=None)
    with pytest.raises(KeyFileError, match="no peer could connect"):
        keyset_from_options(tmp_path / "broker.key_secret", rater_keys=None, client_keys=None, admin_keys=None)
    keys = client_keys_from_options(tmp_path / "fe.key_secret", tmp_path / "broker.key")
    assert keys.server_public == load_public_certificate(tmp_path / "broker.key")
    ks = keyset_from_options(tmp_path / "broker.key_secret", rater_keys=None, client_keys=tmp_path / "clients",
                             admin_keys=None)
    assert ks.peers() == {}
