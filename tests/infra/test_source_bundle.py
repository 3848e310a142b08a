"""Script-mode bundles are byte-for-byte reproducible and hold only the source files."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

from infra.constructs.source_bundle import deterministic_tar_gz


def _tree(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__pycache__").mkdir()
    (root / "train.py").write_text("print('train')\n")
    (root / "pkg" / "features.py").write_text("COLUMNS = ()\n")
    (root / "pkg" / "__pycache__" / "features.cpython-311.pyc").write_bytes(b"\0")


def test_the_same_sources_give_the_same_bytes_whatever_their_timestamps(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _tree(first)
    _tree(second)
    os.utime(second / "train.py", (1_000_000, 1_000_000))
    assert deterministic_tar_gz(first).read_bytes() == deterministic_tar_gz(second).read_bytes()


def test_a_changed_file_changes_the_bundle(tmp_path: Path) -> None:
    _tree(tmp_path)
    before = deterministic_tar_gz(tmp_path).read_bytes()
    (tmp_path / "train.py").write_text("print('changed')\n")
    assert deterministic_tar_gz(tmp_path).read_bytes() != before


def test_the_bundle_holds_the_sources_under_the_given_root_and_no_bytecode(tmp_path: Path) -> None:
    _tree(tmp_path)
    with tarfile.open(deterministic_tar_gz(tmp_path, arcname="code")) as archive:
        assert sorted(archive.getnames()) == ["code/pkg/features.py", "code/train.py"]
