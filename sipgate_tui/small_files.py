"""Reading a small file of ours that may be something else by now (a FIFO, a device, a huge
file): the bounded, never-blocking read the contacts cache and shell completion share.

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
