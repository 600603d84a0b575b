"""Shared fixtures: every test gets its own data dir."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """Point STANDING_DATA_DIR at a fresh tmp dir so no test touches the user's data."""
    path = tmp_path / "data"
    path.mkdir()
    monkeypatch.setenv("STANDING_DATA_DIR", str(path))
    return path
