"""How fast a Tab is answered: shell completion of sipgate-tui (issue 14, item 7).

    python benchmarks/completion.py [--runs 21] [--contacts 10000] [--json results.json]

Runs in the project's own environment and needs nothing else (no network, no keyring, no
simulator): config.toml, the state file and a contacts cache of --contacts entries are made in a
temporary directory. Measured, with the target of issue 14 (< 150 ms per completion):

* the completion process as the shell starts it (the installed ``sipgate-tui`` with the
  variables the completion script sets): commands, ``call M`` (favourites), ``call -d``
  (the kept device list), ``call Pe`` with the contacts cache read (contacts complete from
  the second letter on);
* in real shells, where installed: bash runs its completion function (the one
  ``--show-completion bash`` defines, as a Tab does: ``time _sipgate_tui_completion``), fish
  answers ``complete -C 'sipgate-tui call M'`` (its whole Tab, fish's own start taken off).

Each row is the median and the fastest of --runs, beside a floor (Python importing Typer, which
every completion of a Typer app pays) and the machine's load, which moves every number here.
With PYTHONDONTWRITEBYTECODE set in a checkout being edited, stale ``.pyc`` files make every run
compile the changed modules (cli.py alone: about 15 ms): run ``python -m compileall -q
sipgate_tui`` first, as an installed package has them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sipgate_tui import contacts_cache
from sipgate_tui.contacts import Contact, ContactNumber
from sipgate_tui.settings import SettingsStore

APP = str(Path(sys.executable).with_name("sipgate-tui"))
TARGET_MS = 150.0
TOKEN_ID = "token-BENCH1"
CONFIG = """\
[profiles.default.favourites]
mom = "+4915799912345"
dad = "+4915799912346"
"""
CASES = {  # name: the command line typed before the Tab
    "commands (sipgate-tui c)": "sipgate-tui c",
    "favourites (call M)": "sipgate-tui call M",
    "devices (call -d )": "sipgate-tui call -d ",
    "profiles (--profile )": "sipgate-tui --profile ",
}


def prepare(work: Path, contacts: int) -> dict[str, str]:
    """The files a user has: favourites, a device list, ``contacts`` cached contacts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIPGATE")}
    env.update(
        SIPGATE_TUI_CONFIG_DIR=str(work / "config"),
        SIPGATE_TUI_STATE_DIR=str(work / "state"),
        SIPGATE_TUI_CACHE_DIR=str(work / "cache"),
        HOME=str(work),
        PATH=f"{Path(APP).parent}:{os.environ.get('PATH', '')}",
    )
    (work / "config").mkdir()
    (work / "config" / "config.toml").write_text(CONFIG)
    SettingsStore(env, "default").remember_devices(
        TOKEN_ID, [("e0", "Desk phone"), ("e1", "Kitchen"), ("x2", "Softphone")]
    )
    people = [
        Contact(
            str(index),
            f"Person{index:05d} Surname{index % 97}",
            "",
            "shared",
            (ContactNumber(f"+49157{index:08d}", "mobile", f"+49157{index:08d}"),),
        )
        for index in range(contacts)
    ]
    contacts_cache.save(env, "default", TOKEN_ID, "DE", people)
    return env


def completion_process(env: dict[str, str], line: str) -> float:
    """Seconds of one completion run, started as bash's completion function starts it."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    variables = {
        **env,
        "_SIPGATE_TUI_COMPLETE": "complete_bash",
        "COMP_WORDS": line,
        "COMP_CWORD": str(cword),
    }
    started = time.perf_counter()
    result = subprocess.run([APP], env=variables, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or not result.stdout.strip():
        raise SystemExit(f"completion of {line!r} failed: {result.stderr[-500:]}")
    return elapsed


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, capture_output=True, check=True)
    return time.perf_counter() - started


def bash_function(env: dict[str, str], line: str, runs: int) -> list[float]:
    """Seconds of bash's own completion function for ``line``, as a Tab runs it."""
    words = " ".join(f"'{word}'" for word in line.split())
    script = (
        "source <(sipgate-tui --show-completion bash); TIMEFORMAT=%R; "
        f"COMP_WORDS=({words}); COMP_CWORD={len(line.split()) - 1}; "
        f"for i in $(seq {runs}); do time _sipgate_tui_completion sipgate-tui; done"
    )
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    return [float(value) for value in result.stderr.split()]


def fish_tab(env: dict[str, str], line: str) -> float:
    """Seconds fish takes for its whole answer to a Tab after ``line``."""
    script = f"sipgate-tui --show-completion fish | source; complete -C '{line}'"
    started = time.perf_counter()
    result = subprocess.run(["fish", "--no-config", "-c", script], env=env, capture_output=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or not result.stdout.strip():
        raise SystemExit(f"fish completed nothing for {line!r}: {result.stderr[-300:]!r}")
    return elapsed


def fish_start(env: dict[str, str]) -> float:
    """Seconds fish takes to start and source the script, to subtract from fish_tab."""
    script = "sipgate-tui --show-completion fish | source"
    started = time.perf_counter()
    subprocess.run(["fish", "--no-config", "-c", script], env=env, capture_output=True)
    return time.perf_counter() - started


def _ms(seconds: list[float]) -> tuple[float, float]:
    """(median, fastest) in milliseconds."""
    return statistics.median(seconds) * 1000, min(seconds) * 1000


def measure(env: dict[str, str], runs: int, contacts: int) -> dict[str, tuple[float, float]]:
    """Median and fastest milliseconds of every row."""
    rows: dict[str, tuple[float, float]] = {}
    cases = {**CASES, f"contacts (call Pe, {contacts} cached)": "sipgate-tui call Pe"}
    # With SIPGATE_TOKEN_ID the contacts cache of that token id is read.
    contact_env = {**env, "SIPGATE_TOKEN_ID": TOKEN_ID}
    for name, line in cases.items():
        use = contact_env if name.startswith("contacts") else env
        completion_process(use, line)  # warm the file cache
        rows[f"process: {name}"] = _ms([completion_process(use, line) for _ in range(runs)])
    # The floor under every row: Python starting and importing Typer, which any completion
    # of a Typer app pays; on a busy machine it says how much of a row is the machine.
    floor = [_timed([sys.executable, "-c", "import typer"], env) for _ in range(runs)]
    rows["floor: python -c 'import typer' (no sipgate-tui)"] = _ms(floor)
    if shutil.which("bash"):
        timings = bash_function(env, "sipgate-tui call M", runs)
        rows["bash: Tab after `sipgate-tui call M`"] = _ms(timings)
    if shutil.which("fish"):
        start = statistics.median(fish_start(env) for _ in range(runs))
        tabs = [fish_tab(env, "sipgate-tui call M") - start for _ in range(runs)]
        rows["fish: Tab after `sipgate-tui call M`"] = _ms(tabs)
    return rows


def main() -> int:
    """Run the measurements and print the table (and write --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = prepare(Path(folder), options.contacts)
        rows = measure(env, options.runs, options.contacts)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"shell completion, {options.runs} runs each (load average {load:.2f}):")
    print(f"  {'':<52} {'median':>9} {'fastest':>9}")
    for name, (median, fastest) in rows.items():
        verdict = "ok" if median < TARGET_MS else f"over the {TARGET_MS:.0f} ms target"
        print(f"  {name:<52} {median:6.1f} ms {fastest:6.1f} ms  {verdict}")
    if options.json:
        document = {"load": load, "median_ms": {k: v[0] for k, v in rows.items()}}
        document["fastest_ms"] = {k: v[1] for k, v in rows.items()}
        options.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
