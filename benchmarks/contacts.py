"""How fast the account's contacts are fetched, loaded from the cache and searched (issue 14).

    python benchmarks/contacts.py [--contacts 10000] [--runs 5] [--json results.json]

Runs in the project's own environment against the built-in simulator on 127.0.0.1 (its large
phonebook mode). Measures, with the targets of issue 14:

* fetching every contact (all pages, through the real client, parsed and normalised):
  under 2 s for 10,000;
* loading them from the cache file (what a prompt does before its first keystroke);
* one keystroke of search over them: every prefix of several typed queries, each searched
  as the prompt will (``ContactIndex.ranked``, best 10), median at most 15 ms;
* the memory the loaded contacts and their index hold (tracemalloc; issue 14: at most 20 MiB
  more for the prompt).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import tracemalloc

from sipgate_tui import contacts_cache
from sipgate_tui.api import SipgateClient
from sipgate_tui.contacts import ContactIndex, country_code_of, fetch_contacts
from sipgate_tui.credentials import Credentials
from sipgate_tui.simulator import DEFAULT_TOKEN, DEFAULT_TOKEN_ID, SipgateSimulator

# What people type, keystroke by keystroke: names with and without accents, a company, digits.
TYPED = ["mueller", "muller", "josé", "ada lovelace", "firma 12", "0211 500", "+49 151", "öster"]


def fetch_seconds(count: int, runs: int) -> list[float]:
    """Seconds to fetch ``count`` contacts from the simulator, once per run."""
    times = []
    with SipgateSimulator() as simulator:
        simulator.large_phonebook(count)
        for _ in range(runs):
            client = SipgateClient(simulator.url, Credentials(DEFAULT_TOKEN_ID, DEFAULT_TOKEN))
            started = time.perf_counter()
            found = fetch_contacts(client, "DE")
            times.append(time.perf_counter() - started)
            client.close()
            if len(found) != count:
                raise SystemExit(f"fetched {len(found)} contacts, not {count}")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()

    fetched = fetch_seconds(args.contacts, args.runs)
    with SipgateSimulator() as simulator, tempfile.TemporaryDirectory() as scratch:
        simulator.large_phonebook(args.contacts)
        client = SipgateClient(simulator.url, Credentials(DEFAULT_TOKEN_ID, DEFAULT_TOKEN))
        env = {"SIPGATE_TUI_CACHE_DIR": scratch}
        contacts_cache.save(env, "default", DEFAULT_TOKEN_ID, "DE", fetch_contacts(client, "DE"))
        path = contacts_cache.cache_path(env, "default")
        size = path.stat().st_size if path is not None else 0
        loads, builds = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            cached = contacts_cache.load(env, "default", DEFAULT_TOKEN_ID, "DE")
            loaded = time.perf_counter()
            assert cached is not None
            built = ContactIndex(cached.contacts, country_code_of("DE"))
            loads.append(loaded - started)
            builds.append(time.perf_counter() - loaded)
            del cached, built  # freed outside the timing: a prompt loads once
        tracemalloc.start()
        held = contacts_cache.load(env, "default", DEFAULT_TOKEN_ID, "DE")
        assert held is not None
        index = ContactIndex(held.contacts, country_code_of("DE"))
        index.ranked("0")  # the digit keys are made on the first digit query: count them too
        memory = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()

    keystrokes = []
    for query in TYPED:
        for end in range(1, len(query) + 1):
            started = time.perf_counter()
            index.ranked(query[:end], limit=10)
            keystrokes.append(time.perf_counter() - started)
    results = {
        "contacts": args.contacts,
        "fetch_median_s": statistics.median(fetched),
        "fetch_max_s": max(fetched),
        "cache_bytes": size,
        "cache_load_median_s": statistics.median(loads),
        "index_build_median_s": statistics.median(builds),
        "keystroke_median_ms": statistics.median(keystrokes) * 1000,
        "keystroke_p90_ms": statistics.quantiles(keystrokes, n=10)[-1] * 1000,
        "keystroke_max_ms": max(keystrokes) * 1000,
        "keystrokes": len(keystrokes),
        "memory_mib": memory / (1 << 20),
    }
    print(f"contacts: {args.contacts}, runs: {args.runs}, Python {sys.version.split()[0]}")
    print(f"fetch every page    median {results['fetch_median_s']:.2f} s  (target < 2 s)")
    print(
        f"cache file          {size / (1 << 20):.1f} MiB, load median "
        f"{results['cache_load_median_s'] * 1000:.0f} ms, index built in "
        f"{results['index_build_median_s'] * 1000:.0f} ms"
    )
    print(
        f"search a keystroke  median {results['keystroke_median_ms']:.1f} ms, p90 "
        f"{results['keystroke_p90_ms']:.1f} ms, max {results['keystroke_max_ms']:.1f} ms over "
        f"{len(keystrokes)} keystrokes  (target median <= 15 ms)"
    )
    print(f"memory held         {results['memory_mib']:.1f} MiB for contacts and index")
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(results, stream, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
