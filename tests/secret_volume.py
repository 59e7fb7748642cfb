"""A folder laid out as kubelet lays out a mounted Secret, to test rotation like in a pod."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SecretVolume"]


class SecretVolume:
    """A folder laid out as kubelet lays out a Secret volume: files → ..data → ..<version>."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.version = 0

    def publish(self, files: dict[str, str]) -> None:
        self.version += 1
        target = self.root / f"..2026_11_26_{self.version:02d}"
        target.mkdir()
        for name, text in files.items():
            (target / name).write_text(text)
        staging = self.root / "..data_tmp"
        staging.symlink_to(target.name)
        os.replace(staging, self.root / "..data")  # the atomic swap kubelet makes
        for name in files:
            link = self.root / name
            if not link.is_symlink():
                link.symlink_to(Path("..data") / name)
