"""The README's troubleshooting and exit-code sections cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

from sipgate_tui.catalogue import CATALOGUE, EXIT_CODES, render_into
from sipgate_tui.errors import ExitCode
from sipgate_tui.problems import NETWORK_PROBLEMS, UNKNOWN_OUTCOME_PROBLEMS

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "sipgate_tui"
SOURCES = {
    path: path.read_text(encoding="utf-8")
    for path in PACKAGE.rglob("*.py")
    if path.name != "catalogue.py"
}
CODE = r'"([a-z][a-z0-9]*(?:-[a-z0-9]+)*)"'


def test_the_readme_sections_are_generated_from_the_catalogue() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert render_into(readme) == readme, (
        "README is stale: run `python -m sipgate_tui.catalogue README.md`"
    )


def test_every_exit_code_is_documented() -> None:
    assert set(EXIT_CODES) == set(ExitCode)


def codes_with_exit_codes() -> dict[str, set[ExitCode]]:
    """Problem codes used in the package, with the exit codes they are raised with."""
    found: dict[str, set[ExitCode]] = {}
    for text in SOURCES.values():
        for match in re.finditer(r"(AppError|InputError|StatusProblem)\(\s*" + CODE, text):
            kind, code = match.groups()
            if kind == "InputError":
                found.setdefault(code, set()).add(ExitCode.USAGE)
                continue
            call = text[match.end() : match.end() + 700]
            exit_code = re.search(r"ExitCode\.([A-Z_]+)", call)
            found.setdefault(code, set())
            if exit_code and "exit_code=error.exit_code" not in call[: exit_code.start()]:
                found[code].add(ExitCode[exit_code.group(1)])
        # codes chosen by a condition: AppError("a" if x else "b", ...)
        for match in re.finditer(r"AppError\(\s*" + CODE + r" if .+? else " + CODE, text):
            for code in match.groups():
                found.setdefault(code, set())
    for code, _message, *_rest in NETWORK_PROBLEMS.values():
        found.setdefault(code, set()).add(ExitCode.NETWORK)
    for code, _message in UNKNOWN_OUTCOME_PROBLEMS.values():
        found.setdefault(code, set()).add(ExitCode.OUTCOME_UNKNOWN)
    found.setdefault("cancelled", set()).add(ExitCode.CANCELLED)
    return found


def test_every_problem_in_the_code_is_in_the_catalogue_with_its_exit_code() -> None:
    found = codes_with_exit_codes()
    missing = set(found) - set(CATALOGUE)
    assert not missing, f"add these to sipgate_tui/catalogue.py: {sorted(missing)}"
    for code, exits in found.items():
        assert exits <= set(CATALOGUE[code].exit_codes), (code, exits)


def test_the_catalogue_has_no_stale_entries() -> None:
    every_source = "\n".join(SOURCES.values())
    stale = [code for code in CATALOGUE if f'"{code}"' not in every_source]
    assert not stale, f"no longer raised anywhere: {stale}"


def _generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pictures_and_the_cli_reference_are_current() -> None:
    stale = [
        name
        for name, content in _generator().outputs().items()
        if (ROOT / "docs" / name).read_text(encoding="utf-8") != content
    ]
    assert not stale, f"stale: {stale}; run `python docs/generate.py`"


def test_the_readme_shows_every_picture() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in _generator().screens():
        assert f"(docs/{name})" in readme, name


def test_the_cli_reference_covers_every_command() -> None:
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for command in (
        "call",
        "login",
        "status",
        "logout",
        "devices",
        "numbers",
        "demo",
        "config",
        "config set",
        "favourites",
        "favourites add",
    ):
        assert f"## `sipgate-tui {command}`" in reference, command
