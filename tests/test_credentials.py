"""Secrets are encrypted at rest: a 0600 Fernet key and 0600 ciphertext, never clear text."""
from __future__ import annotations

import os
import stat

import pytest

from server import credentials
from server.errors import AccountError

SECRET = "app-pw-Zq93-unique-7f1c"


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_roundtrip_in_encrypted_files(data_dir, monkeypatch):
    monkeypatch.setenv("STANDING_KEYRING", "0")
    assert credentials.save_secret(7, SECRET) == "file"
    key = data_dir / credentials.KEY_FILE
    box = data_dir / credentials.SECRETS_DIR / "account-7.bin"
    assert _mode(key) == 0o600 and _mode(box) == 0o600
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes()
    assert credentials.load_secret(7) == SECRET
    credentials.delete_secret(7)
    assert not box.exists()
    with pytest.raises(AccountError):
        credentials.load_secret(7)


def test_key_file_is_reused_and_tampering_is_one_sentence(data_dir, monkeypatch):
    monkeypatch.setenv("STANDING_KEYRING", "0")
    credentials.save_secret(1, "one")
    credentials.save_secret(2, "two")
    assert credentials.load_secret(1) == "one" and credentials.load_secret(2) == "two"
    (data_dir / credentials.SECRETS_DIR / "account-1.bin").write_bytes(b"garbage")
    with pytest.raises(AccountError, match="cannot be read"):
        credentials.load_secret(1)


def test_unsafe_keyring_backends_are_not_used(monkeypatch):
    import keyring
    from keyring.backends import fail, null

    monkeypatch.delenv("STANDING_KEYRING", raising=False)
    for backend in (fail.Keyring(), null.Keyring()):
        monkeypatch.setattr(keyring, "get_keyring", lambda backend=backend: backend)
        assert credentials.keyring_backend() is None


def test_a_working_keyring_is_preferred(data_dir, monkeypatch):
    """A real backend (here an in-memory one with a positive priority) takes the secret."""
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 5
        store: dict = {}

        def get_password(self, service, username):
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self.store.pop((service, username), None)

    ring = MemoryKeyring()
    monkeypatch.delenv("STANDING_KEYRING", raising=False)
    monkeypatch.setattr(keyring, "get_keyring", lambda: ring)
    assert credentials.save_secret(3, SECRET) == "keyring"
    assert not (data_dir / credentials.SECRETS_DIR / "account-3.bin").exists()
    assert credentials.load_secret(3) == SECRET
    credentials.delete_secret(3)
    assert ring.store == {}


def test_files_are_private_even_with_a_permissive_umask(data_dir, monkeypatch):
    """0600 from creation (os.open with a mode), not chmod after writing: umask 000 cannot widen it."""
    monkeypatch.setenv("STANDING_KEYRING", "0")
    old = os.umask(0)
    try:
        credentials.save_secret(4, SECRET)
    finally:
        os.umask(old)
    assert _mode(data_dir / credentials.KEY_FILE) == 0o600
    assert _mode(data_dir / credentials.SECRETS_DIR / "account-4.bin") == 0o600
    assert not [p.name for p in data_dir.iterdir() if ".tmp" in p.name]


def test_racing_first_uses_agree_on_one_complete_key(data_dir, monkeypatch):
    """Processes saving their first secret at once must never read a key file half-written
    (the key is linked into place whole) nor end with two different keys."""
    import threading

    monkeypatch.setenv("STANDING_KEYRING", "0")
    for attempt in range(10):
        directory = data_dir / f"race{attempt}"
        directory.mkdir()
        barrier = threading.Barrier(6)
        errors = []

        def save(account_id, directory=directory, barrier=barrier, errors=errors):
            barrier.wait()
            try:
                credentials.save_secret(account_id, f"secret-{account_id}", data_dir=directory)
            except Exception as err:  # collected: the assertion below names it
                errors.append(err)

        threads = [threading.Thread(target=save, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert [credentials.load_secret(n, data_dir=directory) for n in range(6)] == [f"secret-{n}" for n in range(6)]


def test_a_damaged_key_file_is_one_sentence(data_dir, monkeypatch):
    monkeypatch.setenv("STANDING_KEYRING", "0")
    (data_dir / credentials.KEY_FILE).write_bytes(b"")  # e.g. a disk that filled up
    with pytest.raises(AccountError, match="damaged"):
        credentials.save_secret(5, SECRET)
    assert not (data_dir / credentials.SECRETS_DIR / "account-5.bin").exists()
