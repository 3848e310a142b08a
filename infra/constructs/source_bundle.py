"""Deterministic `sourcedir.tar.gz` bundles for SageMaker script mode.

SageMaker's framework containers take the training code as a gzipped tar in S3
(`sagemaker_submit_directory`), while CDK directory assets are zips. The bundle is
built at synthesis with fixed timestamps, owners and order, so the same code
always gives the same bytes, the same asset hash and an unchanged template.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import tempfile
from pathlib import Path

_SKIPPED = ("__pycache__", ".pyc")


def deterministic_tar_gz(source: Path, *, arcname: str = "") -> Path:
    """A gzipped tar of `source`'s files (under `arcname/` when given), in a content-addressed temp file."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(p for p in source.rglob("*") if p.is_file() and not _skipped(p)):
            relative = path.relative_to(source).as_posix()
            info = tarfile.TarInfo(f"{arcname}/{relative}" if arcname else relative)
            data = path.read_bytes()
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(data))
    compressed = gzip.compress(buffer.getvalue(), mtime=0)
    target = Path(tempfile.gettempdir()) / "omni-bundles" / f"{hashlib.sha256(compressed).hexdigest()[:16]}.tar.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_bytes(compressed)
    return target


def _skipped(path: Path) -> bool:
    return any(part == _SKIPPED[0] for part in path.parts) or path.suffix == _SKIPPED[1]
