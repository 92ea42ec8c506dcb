"""The one zip-bomb rule: .docx and .xlsx files are zip archives, refused when they would
inflate past ``Settings.ingest.max_unzipped_mb``, for uploads and for files found in a folder."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

_BLOCK = 1 << 20


def expansion_problem(source: Path | bytes, max_mb: float, kind: str,
                      invalid_is_a_problem: bool = True) -> str | None:
    """Why this archive must be refused (None: it may be read). Declared sizes can lie, so
    the members are inflated for real, stopping at the limit. ``invalid_is_a_problem``:
    False leaves a damaged archive to the parser, which names the damage its own way."""
    limit = int(max_mb * 1024 * 1024)
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source
                             ) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > limit:
                return f"document would expand to more than {max_mb:g} MB (a zip bomb?)"
            total = 0
            for member in members:
                with archive.open(member) as stream:
                    while block := stream.read(_BLOCK):
                        total += len(block)
                        if total > limit:
                            return f"document expands to more than {max_mb:g} MB (a zip bomb?)"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError) as exc:
        return f"not a valid {kind} file ({exc})" if invalid_is_a_problem else None
    return None
