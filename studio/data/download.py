"""Downloading public datasets with torchvision's utilities (URL + md5 checked).

`download_and_extract_archive` is a module-level name so tests can replace it
with one that raises, which is exactly what being offline looks like.
"""
from __future__ import annotations

import socket
from pathlib import Path

from studio.data.common import Progress, report

# Without a timeout, urllib waits forever on a half-open connection; the GUI
# would show "Downloading…" until the user killed the app.
TIMEOUT_S = 60.0


def download_and_extract_archive(url: str, download_root: str, filename: str | None = None,
                                 md5: str | None = None) -> None:
    from torchvision.datasets.utils import download_and_extract_archive as fetch  # slow import: lazily
    fetch(url, download_root=download_root, filename=filename, md5=md5)


def fetch_all(files: list[tuple[list[str], str, str | None]], folder: Path, title: str,
              progress: Progress) -> str | None:
    """Download each (mirror URLs, filename, md5) into `folder` and extract it.
    Returns None on success, else a one-line reason for the failure."""
    previous = socket.getdefaulttimeout()
    if previous is None:
        socket.setdefaulttimeout(TIMEOUT_S)
    try:
        for i, (urls, filename, md5) in enumerate(files):
            report(progress, i / len(files), f"Downloading {title}: {filename}")
            errors = []
            for url in urls:
                try:
                    download_and_extract_archive(url, str(folder), filename=filename, md5=md5)
                    break
                except Exception as e:  # noqa: BLE001 - any failure means "try the next mirror"
                    errors.append(f"{url}: {type(e).__name__}: {e}")
            else:
                return "; ".join(errors)
        report(progress, 1.0, f"Downloaded {title}")
        return None
    finally:
        if previous is None:
            socket.setdefaulttimeout(None)
