"""How fast sipgate-tui starts and dials, measured side by side with its baselines.

    python benchmarks/run.py [--runs 31] [--json results.json]

Runs in the project's own environment (the installed ``sipgate-tui`` next to this Python) and
needs nothing else; everything it dials is the built-in simulator on 127.0.0.1. The commands of
each comparison are alternated, round after round, so a noisy neighbour hits both alike; the
table shows medians and their ratios against the targets of issue 6.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import pty
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sipgate_tui import __version__
from sipgate_tui.simulator import DEFAULT_TOKEN, DEFAULT_TOKEN_ID, SipgateSimulator

HERE = Path(__file__).parent
APP = str(Path(sys.executable).with_name("sipgate-tui"))
DIAL = [APP, "call", "+4915799912345", "--device", "e0", "--yes"]


def timed(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak memory (max RSS, KiB) of one run of ``command``."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with {process.returncode}")
    return elapsed, usage.ru_maxrss


def until_prompt(command: list[str], env: dict[str, str], marker: bytes) -> tuple[float, int]:
    """Seconds from start until ``marker`` appears on the pseudo-terminal (then it is killed)."""
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the app
        os.execve(command[0], command, env)
    seen = b""
    try:
        while marker not in seen:
            ready, _, _ = select.select([fd], [], [], 10)
            if not ready:
                raise SystemExit(f"no prompt within 10 s; the screen showed: {seen[-300:]!r}")
            seen += os.read(fd, 65536)
        elapsed = time.perf_counter() - started
    finally:
        os.kill(pid, signal.SIGKILL)
        _, _, usage = os.wait4(pid, 0)
        os.close(fd)
    return elapsed, usage.ru_maxrss


def alternate(runs: int, jobs: dict[str, Callable[[], tuple[float, int]]]) -> dict[str, dict]:
    """Run each job once per round, round after round; medians of time and memory."""
    for job in jobs.values():  # warm the file cache, so round one is not an outlier
        job()
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in jobs}
    for _ in range(runs):
        for name, job in jobs.items():
            samples[name].append(job())
    return {
        name: {
            "ms": statistics.median(s[0] for s in values) * 1000,
            "max_rss_mib": statistics.median(s[1] for s in values) / 1024,
        }
        for name, values in samples.items()
    }


def requests_waited_on(env: dict[str, str]) -> int:
    """How many HTTP requests a one-shot dial waits for before its result (the floor is 1).

    Every GET is delayed by 300 ms: a dial that waited for any of them would send its POST
    only after that answer; those counted here are answered before the POST even arrived.
    """
    with SipgateSimulator(read_delay=0.3) as slow:
        timed(DIAL, {**env, "SIPGATE_API_URL": slow.url})
        [post] = slow.call_requests()
        waited = [
            r
            for r in slow.requests
            if r.method == "GET" and r.answered_at is not None and r.answered_at <= post.received_at
        ]
    return 1 + len(waited)


def keyring_environment(base: dict[str, str], home: Path) -> dict[str, str] | None:
    """A private Secret Service with the token stored, or None where none can run here."""
    if not (shutil.which("dbus-daemon") and shutil.which("gnome-keyring-daemon")):
        return None
    env = {**base, "HOME": str(home), "XDG_RUNTIME_DIR": str(home)}
    for name in ("SIPGATE_TOKEN_ID", "SIPGATE_TOKEN", "PYTHON_KEYRING_BACKEND"):
        env.pop(name, None)
    bus = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
        env=env,
        capture_output=True,
        text=True,
    )
    if bus.returncode:
        return None
    address, pid = bus.stdout.split()[:2]
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    env["BENCH_BUS_PID"] = pid
    subprocess.run(
        ["gnome-keyring-daemon", "--unlock", "--components=secrets"],
        env=env,
        input="benchmark",
        capture_output=True,
        text=True,
    )
    store = (
        "import keyring, json; keyring.set_password('sipgate-tui', 'default', "
        f"json.dumps({{'token_id': {DEFAULT_TOKEN_ID!r}, 'token': {DEFAULT_TOKEN!r}}}))"
    )
    if subprocess.run([sys.executable, "-c", store], env=env).returncode:
        return None
    # The first dial runs keyring's full discovery and remembers the backend that served the
    # token (as `login` would); the measured ones take the fast path, as a user's dials do.
    if subprocess.run(DIAL, env=env, capture_output=True).returncode:
        return None
    return env


def discovery_environment(keyring_env: dict[str, str], home: Path) -> dict[str, str]:
    """The same keyring, with keyring's full discovery on every dial (what every dial did
    before the remembered backend, issue 16): an empty keyringrc.cfg counts as keyring's own
    configuration, which sipgate-tui leaves to keyring's normal path."""
    config = home / "python_keyring"
    config.mkdir(parents=True, exist_ok=True)
    (config / "keyringrc.cfg").write_text("# empty: keyring discovers the backend itself\n")
    return {**keyring_env, "XDG_CONFIG_HOME": str(home)}


def measure_basics(runs: int, env: dict[str, str]) -> dict[str, dict]:
    """Start-up, the one-shot dial and the first prompt, each beside its baseline."""
    results: dict[str, dict] = {}
    python = [sys.executable, "-c", "pass"]
    results["start"] = alternate(
        runs,
        {
            "python -c pass": lambda: timed(python, env),
            "sipgate-tui --version": lambda: timed([APP, "--version"], env),
            "sipgate-tui --help": lambda: timed([APP, "--help"], env),
        },
    )
    plain = [sys.executable, str(HERE / "plain_dial.py")]
    results["dial"] = alternate(
        runs,
        {
            "plain requests script": lambda: timed(plain, env),
            "sipgate-tui one-shot dial": lambda: timed(DIAL, env),
        },
    )
    imports = [sys.executable, "-c", "import questionary, rich.console"]
    results["prompt"] = alternate(
        runs,
        {
            "import questionary, rich.console": lambda: timed(imports, env),
            "sipgate-tui call, first prompt": lambda: until_prompt(
                [APP, "call"], env, b"Whom do you want to call"
            ),
        },
    )
    return results


def measure_keyring(runs: int, env: dict[str, str], work: Path) -> dict[str, dict] | None:
    """The one-shot dial with the token in a real Secret Service (the remembered backend,
    as users dial), beside the same dial with the token in the environment, and with
    keyring's full discovery (as every dial was before issue 16); None without one here."""
    keyring_env = keyring_environment(env, work / "keyring")
    if keyring_env is None:
        return None
    discovery_env = discovery_environment(keyring_env, work / "keyring-discovery")
    try:
        return alternate(
            runs,
            {
                "dial, token from the environment": lambda: timed(DIAL, env),
                "dial, token from the keyring": lambda: timed(DIAL, keyring_env),
                "dial, token from the keyring, full discovery": lambda: timed(DIAL, discovery_env),
            },
        )
    finally:
        os.kill(int(keyring_env["BENCH_BUS_PID"]), signal.SIGTERM)


def machine() -> dict[str, object]:
    return {
        "date": datetime.date.today().isoformat(),
        "sipgate_tui": __version__,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpus": os.cpu_count(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=31, help="rounds per comparison (31)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--only", choices=["keyring"], help="only this comparison (keyring: the keyring dials)"
    )
    args = parser.parse_args()
    if not Path(APP).exists():
        raise SystemExit(f"{APP} is missing: install the project first (pip install .)")
    import sipgate_tui

    if "site-packages" not in sipgate_tui.__file__:
        print(
            "note: sipgate-tui runs from a source checkout (an editable install); its imports "
            "are slower than a user's. For the numbers users see: pip install . into a fresh "
            "virtual environment.\n",
            file=sys.stderr,
        )

    work = Path(tempfile.mkdtemp(prefix="sipgate-tui-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIPGATE")}
    env.update(
        HOME=str(work),
        SIPGATE_TOKEN_ID=DEFAULT_TOKEN_ID,
        SIPGATE_TOKEN=DEFAULT_TOKEN,
        SIPGATE_TUI_CONFIG_DIR=str(work / "config"),
        SIPGATE_TUI_STATE_DIR=str(work / "state"),
        PROMPT_TOOLKIT_NO_CPR="1",
        TERM="xterm-256color",
    )
    results: dict[str, object] = {"machine": machine()}
    with SipgateSimulator() as simulator:
        env["SIPGATE_API_URL"] = simulator.url
        if args.only is None:
            results.update(measure_basics(args.runs, env))
        keyring = measure_keyring(args.runs, env, work)
        if keyring is not None:
            results["keyring"] = keyring
        if args.only is None:
            results["waited_on"] = requests_waited_on(env)
    shutil.rmtree(work, ignore_errors=True)

    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def table(results: dict) -> str:
    """The results as a Markdown table, with ratios and the targets."""
    if "start" not in results:  # --only keyring
        header = [
            "| measurement | sipgate-tui | baseline | ratio | target |",
            "|---|---|---|---|---|",
        ]
        return "\n".join([*header, keyring_row(results), *machine_lines(results)])
    start, dial, prompt = results["start"], results["dial"], results["prompt"]

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x"

    base = start["python -c pass"]["ms"]
    rows = [
        (
            "`sipgate-tui --version`",
            start["sipgate-tui --version"]["ms"],
            "`python -c pass`",
            base,
            "≤ 6x",
        ),
        (
            "`sipgate-tui --help`",
            start["sipgate-tui --help"]["ms"],
            "`python -c pass`",
            base,
            "≤ 8x",
        ),
        (
            "one-shot dial",
            dial["sipgate-tui one-shot dial"]["ms"],
            "plain requests script",
            dial["plain requests script"]["ms"],
            "≤ 1.6x (stretch 1.2x)",
        ),
        (
            "`sipgate-tui call` to the first prompt",
            prompt["sipgate-tui call, first prompt"]["ms"],
            "`import questionary, rich.console`",
            prompt["import questionary, rich.console"]["ms"],
            "≤ 1.3x",
        ),
    ]
    lines = [
        "| measurement | sipgate-tui | baseline | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for what, ours, baseline_name, baseline, target in rows:
        lines.append(
            f"| {what} | {ours:.0f} ms | {baseline_name}: {baseline:.0f} ms | "
            f"{ratio(ours, baseline)} | {target} |"
        )
    ours_mem = dial["sipgate-tui one-shot dial"]["max_rss_mib"]
    plain_mem = dial["plain requests script"]["max_rss_mib"]
    lines.append(
        f"| peak memory, one-shot dial | {ours_mem:.1f} MiB | plain requests script: "
        f"{plain_mem:.1f} MiB | {ratio(ours_mem, plain_mem)} | ≤ 1.5x |"
    )
    lines.append(keyring_row(results))
    lines.append(
        f"| HTTP requests a one-shot dial waits on | {results['waited_on']} | the POST "
        "alone: 1 | | = 1 |"
    )
    lines += machine_lines(results)
    return "\n".join(lines)


def keyring_row(results: dict) -> str:
    """The keyring dial beside the environment dial (target: at most 1.25x, issue 16), with
    what keyring's full discovery costs (every dial before the remembered backend)."""
    if "keyring" not in results:
        return "| one-shot dial, token from the keyring | n/a: no Secret Service here | | | |"
    keyring = results["keyring"]
    from_env = keyring["dial, token from the environment"]["ms"]
    from_keyring = keyring["dial, token from the keyring"]["ms"]
    discovery = keyring["dial, token from the keyring, full discovery"]["ms"]
    return (
        f"| one-shot dial, token from the keyring | {from_keyring:.0f} ms | token from the "
        f"environment: {from_env:.0f} ms | {from_keyring / from_env:.2f}x | ≤ 1.25x "
        f"(full discovery: {discovery / from_env:.2f}x) |"
    )


def machine_lines(results: dict) -> list[str]:
    """Where and with what it was measured."""
    info = results["machine"]
    return [
        "",
        f"Measured {info['date']} with sipgate-tui {info['sipgate_tui']}, Python "
        f"{info['python']}, {info['system']}, {info['cpus']} CPUs; medians of "
        "alternating runs.",
    ]


if __name__ == "__main__":
    sys.exit(main())
