"""Small files of ours: the bounded, never-blocking read of one that may be something else
by now (a FIFO, a device, a huge file), which the contacts cache and shell completion share;
and the atomic write that config, state, cache and the desktop entry share.

Import-free beyond ``os`` and ``stat``: a Tab in the shell pays for it.
"""

from __future__ import annotations

import os
import stat


def read_small_file(path: os.PathLike[str] | str, limit: int) -> str | None:
    """The text of a regular file of at most ``limit`` bytes (a BOM dropped); None for
    anything else: no file, a FIFO (opening it would wait), a device, too large, not UTF-8,
    unreadable."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        descriptor = os.open(path, flags)
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None  # swapped for something else after the check
        with os.fdopen(descriptor, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    if len(data) > limit:
        return None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None


def write_atomically(
    path: os.PathLike[str] | str,
    data: bytes,
    *,
    mode: int | None = None,
    new_mode: int = 0o600,
    through_links: bool = True,
) -> None:
    """Replace ``path`` with ``data`` so readers see the old file or the new one, never half
    of one (a temporary file in the same directory, flushed to disk, then renamed over it).

    The file gets ``mode`` if given; else an existing file keeps its mode and a new one gets
    ``new_mode`` (set explicitly: a umask such as 0277 must not cut it). ``through_links``:
    a symbolic link stays, and the file it points to is replaced in its own directory, so
    the rename stays atomic. Raises ``OSError``; the temporary file never stays behind.
    """
    import contextlib
    import tempfile

    target = os.path.realpath(path) if through_links and os.path.islink(path) else os.fspath(path)
    directory, name = os.path.split(target)
    handle, temporary = tempfile.mkstemp(dir=directory or ".", prefix=f".{name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if mode is None:
            try:
                mode = stat.S_IMODE(os.stat(target).st_mode)
            except FileNotFoundError:
                mode = new_mode
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
