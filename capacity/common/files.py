"""The one way capctl reads an input file and writes an output file.

Reading: regular files only (a FIFO would hang, /dev/zero would fill memory), opened without blocking,
and never more than `limit` + 1 bytes read. Writing: a temporary file in the destination's folder,
fsync, then os.replace; on any failure the previous file is left intact and the temporary removed, so
a crash, a full disk or a bad plot never leaves a half-written model or image behind.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from capacity.common.errors import ConfigError, InputError

Writer = Callable[[BinaryIO], object]


def read_bounded(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes; every problem is a ConfigError with a `code`.

    Codes: `not_found`, `not_regular` (FIFO, device, folder), `too_large`, `unreadable`.
    """
    where = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", path=where, code="not_found") from None
    except IsADirectoryError:
        raise ConfigError(f"{what} is a folder, not a file", path=where, code="not_regular") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror}", path=where, code="unreadable") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a pipe" if stat.S_ISFIFO(mode) else "a device or socket"
            raise ConfigError(f"{what} is {kind}, not a regular file", path=where, code="not_regular")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror}", path=where, code="unreadable") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise ConfigError(f"{what} larger than {limit} bytes; is it the right file?", path=where, code="too_large")
    return data


def check_writable(path: Path, what: str = "output file") -> None:
    """Fail early (before any computation) when `path` cannot be written: missing or read-only folder."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{what} {path} is a folder; give a file name")
    if not folder.is_dir():
        raise InputError(f"cannot write {what} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {what} {path}: folder {folder} is not writable")


def write_atomic(path: Path, content: bytes | str | Writer, what: str = "output file") -> None:
    """Replace `path` with `content` (bytes, text as UTF-8, or a callback writing to a binary file) atomically.

    The temporary file lives in the same folder (os.replace is atomic only within one file system);
    it is fsynced before the rename, and removed on any failure. The old file stays as it was.
    OS errors become an InputError naming the file; the callback's own exceptions pass through.
    """
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write {what} {path}: {exc.strerror}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(content, str):
                out.write(content.encode("utf-8"))
            elif isinstance(content, bytes):
                out.write(content)
            else:
                content(out)
            out.flush()
            os.fsync(out.fileno())
        _keep_mode(path, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {what} {path}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # the rename itself durable; not possible everywhere
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _keep_mode(path: Path, tmp: Path) -> None:
    """The new file gets the old one's permissions, or the usual 0644-minus-umask (mkstemp makes 0600)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)
