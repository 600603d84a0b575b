"""Mail account secrets (app passwords, OAuth access tokens), encrypted at rest.

Where they go:
- the OS keyring, when a real one works (Secret Service, macOS Keychain, Windows Credential
  Locker). The fail, null and plaintext backends do not count: with them a secret would be
  lost or stored in clear.
- otherwise a Fernet key file `credentials.key` (created 0600) in the data dir, and each
  secret's ciphertext in `secrets/account-<id>.bin` (0600). SQLite never sees a secret.

Secrets are never logged; callers must not put them in exceptions or API answers either.
Set STANDING_KEYRING=0 to skip the OS keyring (tests, headless machines).
"""
from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from . import config
from .errors import AccountError

SERVICE = "where-you-stand"
KEY_FILE = "credentials.key"
SECRETS_DIR = "secrets"
ENV_KEYRING = "STANDING_KEYRING"
# Backends that do not protect a secret: failing, discarding, or writing it in clear.
UNSAFE_BACKEND_MARKERS = ("fail", "null", "plaintext", "uncrypted", "unencrypted")


def keyring_backend():
    """The OS keyring backend when one really works, else None."""
    if os.environ.get(ENV_KEYRING, "").strip().lower() in ("0", "no", "false", "off"):
        return None
    try:
        import keyring
        from keyring.backends import chainer
        backend = keyring.get_keyring()
    except Exception:  # any import or discovery failure means no keyring
        return None
    backends = list(backend.backends) if isinstance(backend, chainer.ChainerBackend) else [backend]
    for candidate in backends:
        name = f"{type(candidate).__module__}.{type(candidate).__name__}".lower()
        try:
            priority = float(candidate.priority)
        except Exception:
            continue
        if priority < 1 or any(marker in name for marker in UNSAFE_BACKEND_MARKERS):
            continue
        return candidate
    return None


def _data_dir(data_dir: str | os.PathLike | None) -> Path:
    return Path(data_dir) if data_dir else config.data_dir()


def _keyring_user(account_id: int, data_dir: Path) -> str:
    # Several data dirs (tests, profiles) must not share entries.
    tag = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]
    return f"account-{int(account_id)}@{tag}"


def _write_private(path: Path, data: bytes) -> None:
    """Write a file that is 0600 from its first byte, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _fernet(data_dir: Path):
    from cryptography.fernet import Fernet
    key_path = data_dir / KEY_FILE
    if not key_path.exists():
        # Written whole to a private temp file (0600 from its first byte), then linked into
        # place: os.link fails when the key exists, so of two processes creating it at once
        # one wins and the other reads a complete key (never an empty, half-written file).
        tmp = key_path.with_name(f"{KEY_FILE}.tmp{os.getpid()}-{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, Fernet.generate_key())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, key_path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    try:
        return Fernet(key_path.read_bytes().strip())
    except ValueError:
        raise AccountError(f"The key file {key_path} is damaged; remove it and add your accounts again.") from None


def _secret_path(account_id: int, data_dir: Path) -> Path:
    return data_dir / SECRETS_DIR / f"account-{int(account_id)}.bin"


def save_secret(account_id: int, secret: str, *, data_dir=None) -> str:
    """Store the secret for an account; returns where ("keyring" or "file")."""
    directory = _data_dir(data_dir)
    backend = keyring_backend()
    if backend is not None:
        try:
            backend.set_password(SERVICE, _keyring_user(account_id, directory), secret)
            return "keyring"
        except Exception:
            pass  # a locked or broken keyring: fall back to the encrypted file
    token = _fernet(directory).encrypt(secret.encode("utf-8"))
    _write_private(_secret_path(account_id, directory), token)
    return "file"


def load_secret(account_id: int, *, data_dir=None) -> str:
    """The stored secret; AccountError when it is missing or cannot be decrypted."""
    directory = _data_dir(data_dir)
    path = _secret_path(account_id, directory)
    if path.exists():
        from cryptography.fernet import InvalidToken
        try:
            return _fernet(directory).decrypt(path.read_bytes()).decode("utf-8")
        except (InvalidToken, ValueError, OSError):
            raise AccountError("The saved password for this account cannot be read; "
                               "remove the account and add it again.") from None
    backend = keyring_backend()
    if backend is not None:
        try:
            value = backend.get_password(SERVICE, _keyring_user(account_id, directory))
        except Exception:
            value = None
        if value is not None:
            return value
    raise AccountError("No saved password was found for this account; remove it and add it again.")


def delete_secret(account_id: int, *, data_dir=None) -> None:
    """Forget the secret wherever it is. Never raises for a missing one."""
    directory = _data_dir(data_dir)
    try:
        os.unlink(_secret_path(account_id, directory))
    except FileNotFoundError:
        pass
    backend = keyring_backend()
    if backend is not None:
        try:
            backend.delete_password(SERVICE, _keyring_user(account_id, directory))
        except Exception:
            pass


__all__ = ["save_secret", "load_secret", "delete_secret", "keyring_backend"]
