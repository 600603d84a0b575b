"""Where the data lives: STANDING_DATA_DIR first, then the platform's user data dir."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_DATA_DIR = "STANDING_DATA_DIR"
DEFAULT_PORT = 8765


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The user data dir, created 0700 if missing."""
    path = Path(override or os.environ.get(ENV_DATA_DIR) or platformdirs.user_data_dir("where-you-stand"))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
