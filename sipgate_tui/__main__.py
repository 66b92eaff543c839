"""Entry point of the ``sipgate-tui`` console script and of ``python -m sipgate_tui``."""

from __future__ import annotations

import contextlib
import os
import sys


def main() -> None:
    """Start the app; ``--version`` alone is answered before anything heavy is imported.

    When the command is done, the process ends at once: with typer, Rich, requests and
    phonenumbers loaded, the interpreter's orderly teardown of modules costs about 35 ms
    (measured with benchmarks/run.py), which every call would pay for nothing. Everything we
    write is flushed first; files are written atomically and closed long before.
    """
    if sys.argv[1:] == ["--version"]:
        from sipgate_tui import __version__

        print(f"sipgate-tui {__version__}")
        return
    from sipgate_tui.safe_output import guard_stdio

    guard_stdio()  # before anything can print: no encoding error, no secret, ever
    _interrupt_on_termination()
    from sipgate_tui.cli import main as cli_main

    try:
        cli_main()
        code = 0
    except SystemExit as exit_request:
        code = _exit_code(exit_request.code)
    except KeyboardInterrupt:  # a second signal while the first one's outcome was printed
        code = 130
    _flush_and_exit(code)


def _interrupt_on_termination() -> None:
    """SIGTERM and SIGHUP (a closed terminal window, ``kill``, a service manager) act like
    Ctrl-C: the command says what happened to the call, the live view restores the terminal,
    the demo removes its files. A second signal ends the process at once (the default),
    so nothing can keep it from stopping."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        for number in numbers:
            signal.signal(number, signal.SIG_DFL)
        if _stop_question():
            return  # the question ends itself, as on Ctrl-C, and restores the terminal
        raise KeyboardInterrupt

    # SIGHUP is POSIX only; SIGBREAK (Ctrl-Break in a console) is Windows only.
    names = ("SIGTERM", "SIGHUP", "SIGBREAK")
    numbers = [getattr(signal, name) for name in names if hasattr(signal, name)]
    for number in numbers:
        with contextlib.suppress(OSError, ValueError):  # not the main thread, or not allowed
            signal.signal(number, interrupt)


def _stop_question() -> bool:
    """End a question on screen the way Ctrl-C does; False when none is asked.

    Raised into the middle of prompt_toolkit's event loop, KeyboardInterrupt can be caught
    and lost there, and the question would stay on screen, waiting for keys no one types.
    """
    current = sys.modules.get("prompt_toolkit.application.current")
    if current is None:
        return False
    application = current.get_app_or_none()
    if application is None or not application.is_running or application.is_done:
        return False
    application.exit(exception=KeyboardInterrupt, style="class:aborting")
    loop = getattr(application, "loop", None)
    if loop is not None:  # wake the loop: it may be waiting for a key that never comes
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(lambda: None)
    return True


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # what SystemExit("message") would have printed
    return 1


def _flush_and_exit(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):  # closed, broken pipe
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
