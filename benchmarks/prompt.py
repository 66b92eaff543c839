"""The callee prompt with a large phonebook (issue 14): keystrokes, first prompt, memory.

    python benchmarks/prompt.py [--contacts 10000] [--runs 9] [--json results.json]

Runs in the project's own environment against the built-in simulator on 127.0.0.1 (its large
phonebook mode, kept in a cache file as ``contacts`` keeps it). Measures, with the targets of
issue 14:

* one keystroke: the REAL completer of the callee prompt (``prompts.source_completer`` over
  ``call_questions.CalleeSuggestions``, with favourites, recent numbers and the cached
  contacts), asked with a prompt_toolkit ``Document`` for every prefix of several typed
  queries, every completion and its note made, as the menu does: median at most 15 ms;
* ``sipgate-tui call`` to the first prompt on a pseudo-terminal, with no cache and with the
  10,000-contact cache, alternated round after round: no later than without (within 10 %);
* the memory the loaded phonebook costs the prompt (resident set before and after loading
  and searching, in this process): at most 20 MiB more.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from run import APP, alternate, until_prompt

from sipgate_tui import contacts_cache
from sipgate_tui.contacts import parse_contact
from sipgate_tui.simulator import (
    DEFAULT_TOKEN,
    DEFAULT_TOKEN_ID,
    SipgateSimulator,
    generated_contacts,
)

# What people type, keystroke by keystroke: names with and without accents, a company, digits.
TYPED = ["mueller", "muller", "josé", "ada lovelace", "firma 12", "0211 500", "+49 151", "öster"]


class _Options:
    profile = "default"


class _Context:
    """What ``ContactsLoader`` reads of the app's context: the environment and the profile."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.options = env, _Options()


def resident_mib() -> float:
    """This process's resident set now (Linux ``/proc``), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def keystrokes(env: dict[str, str]) -> tuple[list[float], float, int]:
    """Seconds per keystroke on the real completer, the memory the phonebook added (MiB)
    and the number of completions the last query gave."""
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from sipgate_tui.commands.call_questions import CalleeSuggestions, ContactsLoader
    from sipgate_tui.prompts import source_completer
    from sipgate_tui.settings import Recent

    favourites = {"mom": "+4915799912345", "office": "+492115550001"}
    recent = [Recent("+4921155500099", "2026-12-01T10:00:00Z", "+49 211 55500099")]
    CalleeSuggestions("DE", favourites, recent).find("warm up")  # imports, not the phonebook
    before = resident_mib()
    loader = ContactsLoader(_Context(env), "DE", DEFAULT_TOKEN_ID, None)  # type: ignore[arg-type]
    source = CalleeSuggestions("DE", favourites, recent, contacts=loader)
    source.start()
    if not loader.loaded.wait(30) or loader.index is None:
        raise SystemExit("the cache was not loaded")
    completer = source_completer(source)
    times, shown = [], 0
    for query in TYPED:
        for end in range(1, len(query) + 1):
            typed = query[:end]
            started = time.perf_counter()
            found = list(completer.get_completions(Document(typed, len(typed)), CompleteEvent()))
            times.append(time.perf_counter() - started)
            shown = len(found)
    return times, resident_mib() - before, shown


def first_prompt(runs: int, env: dict[str, str], cached_env: dict[str, str]) -> dict[str, Any]:
    """``sipgate-tui call`` to its first prompt, without and with the large cache."""
    marker = b"Whom do you want to call"
    return alternate(
        runs,
        {
            "no contacts cached": lambda: until_prompt([APP, "call"], env, marker),
            "10,000 contacts cached": lambda: until_prompt([APP, "call"], cached_env, marker),
        },
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, SipgateSimulator() as simulator:
        work = Path(scratch)
        items = generated_contacts(args.contacts)
        simulator.contacts = items
        contacts = [c for c in (parse_contact(item, "DE") for item in items) if c]
        base = {
            "HOME": str(work),
            "PATH": "/usr/bin:/bin",
            "TERM": "xterm-256color",
            "PROMPT_TOOLKIT_NO_CPR": "1",
            "SIPGATE_API_URL": simulator.url,
            "SIPGATE_TOKEN_ID": DEFAULT_TOKEN_ID,
            "SIPGATE_TOKEN": DEFAULT_TOKEN,
            "SIPGATE_TUI_CONFIG_DIR": str(work / "config"),
            "SIPGATE_TUI_STATE_DIR": str(work / "state"),
        }
        empty = {**base, "SIPGATE_TUI_CACHE_DIR": str(work / "no-cache")}
        cached = {**base, "SIPGATE_TUI_CACHE_DIR": str(work / "cache")}
        contacts_cache.save(cached, "default", DEFAULT_TOKEN_ID, "DE", contacts)
        del contacts, items
        times, memory, shown = keystrokes(cached)
        prompt = first_prompt(args.runs, empty, cached)

    without = prompt["no contacts cached"]["ms"]
    with_cache = prompt["10,000 contacts cached"]["ms"]
    results = {
        "contacts": args.contacts,
        "keystroke_median_ms": statistics.median(times) * 1000,
        "keystroke_p90_ms": statistics.quantiles(times, n=10)[-1] * 1000,
        "keystroke_max_ms": max(times) * 1000,
        "keystrokes": len(times),
        "completions_last_query": shown,
        "memory_more_mib": memory,
        "first_prompt_ms_without_cache": without,
        "first_prompt_ms_with_cache": with_cache,
        "first_prompt_ratio": with_cache / without,
    }
    print(f"contacts: {args.contacts}, runs: {args.runs}, Python {sys.version.split()[0]}")
    print(
        f"completer, a keystroke  median {results['keystroke_median_ms']:.1f} ms, p90 "
        f"{results['keystroke_p90_ms']:.1f} ms, max {results['keystroke_max_ms']:.1f} ms over "
        f"{len(times)} keystrokes  (target median <= 15 ms)"
    )
    print(
        f"first prompt            {with_cache:.0f} ms with the cache, {without:.0f} ms without "
        f"({results['first_prompt_ratio']:.2f}x; target <= 1.10x)"
    )
    print(f"memory                  +{memory:.1f} MiB resident for the phonebook (target <= 20)")
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(results, stream, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
