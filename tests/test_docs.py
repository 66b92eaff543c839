"""The README's generated sections, the problem codes in the code and the registry agree.

The registry (``sipgate_tui.catalogue``) is the one place a problem code's exit code is written;
these tests read the package's syntax trees to find every code it raises and check each one is
registered, and that nothing registered is raised nowhere.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from sipgate_tui.catalogue import CATALOGUE, render_into
from sipgate_tui.errors import ExitCode
from sipgate_tui.problems import NETWORK_PROBLEMS, UNKNOWN_OUTCOME_PROBLEMS

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "sipgate_tui"
TREES = {
    path.relative_to(ROOT).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
    for path in sorted(PACKAGE.rglob("*.py"))
}
# Besides AppError and its subclasses: the table rows whose first argument is a problem code.
CODE_TAKERS = {"StatusProblem"}


def test_the_readme_sections_are_generated_from_the_catalogue() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert render_into(readme) == readme, (
        "README is stale: run `python -m sipgate_tui.catalogue README.md`"
    )


def test_every_exit_code_has_a_title_and_a_meaning() -> None:
    for exit_code in ExitCode:
        assert exit_code.title and exit_code.meaning, exit_code


def _name(node: ast.expr) -> str | None:
    """``AppError`` for ``AppError`` and ``errors.AppError``; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def error_classes() -> dict[str, bool]:
    """AppError and every class in the package derived from it, however indirectly, each
    with whether its constructor takes the code first (Cancelled's takes only the message)."""
    classes = {"AppError": True}
    definitions = [
        node for tree in TREES.values() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
    ]
    grown = True
    while grown:
        grown = False
        for node in definitions:
            bases = [name for name in map(_name, node.bases) if name in classes]
            if node.name not in classes and bases:
                classes[node.name] = _takes_code_first(node, inherited=classes[bases[0]])
                grown = True
    return classes


def _takes_code_first(node: ast.ClassDef, *, inherited: bool) -> bool:
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            parameters = item.args.posonlyargs + item.args.args
            return len(parameters) > 1 and parameters[1].arg == "code"
    return inherited


def _literal_codes(node: ast.expr) -> Iterator[str]:
    """The problem codes written in ``node``: a string, or either side of ``a if x else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _literal_codes(node.body)
        yield from _literal_codes(node.orelse)


def _is_super_init(call: ast.Call) -> bool:
    function = call.func
    return (
        isinstance(function, ast.Attribute)
        and function.attr == "__init__"
        and isinstance(function.value, ast.Call)
        and _name(function.value.func) == "super"
    )


def _code_arguments(tree: ast.Module, classes: dict[str, bool]) -> Iterator[tuple[str, ast.expr]]:
    """(type, first argument) of every call in ``tree`` whose first argument is a problem code."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name in classes:
            # Cancelled names its code in super().__init__("cancelled", ...).
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and _is_super_init(call) and call.args:
                    yield node.name, call.args[0]
        elif isinstance(node, ast.Call) and node.args:
            kind = _name(node.func)
            if kind is not None and (classes.get(kind) or kind in CODE_TAKERS):
                yield kind, node.args[0]


def raised_codes() -> dict[str, set[str]]:
    """Every literal problem code in the package, with the types it is raised as.

    Found in calls of AppError, its subclasses and StatusProblem, in ``super().__init__(...)``
    inside AppError's subclasses, and in problems.py's tables of network problems.
    """
    classes = error_classes()
    found: dict[str, set[str]] = {}
    for tree in TREES.values():
        for kind, argument in _code_arguments(tree, classes):
            for code in _literal_codes(argument):
                found.setdefault(code, set()).add(kind)
    for code, *_words in [*NETWORK_PROBLEMS.values(), *UNKNOWN_OUTCOME_PROBLEMS.values()]:
        found.setdefault(code, set()).add("problems table")
    return found


def test_the_walk_sees_the_error_types_and_the_codes() -> None:
    # A walk that found nothing would pass the tests below vacuously.
    assert {"InputError", "Cancelled", "KeyringLocked", "TokenRejected"} <= set(error_classes())
    found = raised_codes()
    assert {"cancelled", "usage", "keyring-locked", "no-response", "forbidden"} <= set(found)


def test_every_problem_code_in_the_package_is_in_the_registry() -> None:
    missing = set(raised_codes()) - set(CATALOGUE)
    assert not missing, f"add these to sipgate_tui/catalogue.py: {sorted(missing)}"


def test_every_input_error_is_a_usage_problem() -> None:
    for code, kinds in raised_codes().items():
        if "InputError" in kinds:
            assert CATALOGUE[code].exit_codes == (ExitCode.USAGE,), code


def test_the_registry_has_no_stale_entries() -> None:
    stale = set(CATALOGUE) - set(raised_codes())
    assert not stale, f"no longer raised anywhere: {sorted(stale)}"


def _generator() -> ModuleType:
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


def test_the_architecture_map_names_every_module_and_every_phase_of_a_call() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    package = ROOT / "sipgate_tui"
    modules = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "__init__.py"
    )
    # "commands/login.py, status.py" style rows name a module once with its folder.
    unnamed = [
        module
        for module in modules
        if f"`{module}`" not in text and f"`{module.split('/')[-1]}`" not in text
    ]
    assert not unnamed, f"docs/architecture.md does not mention {unnamed}"
    from sipgate_tui.commands import after_dial, call, common

    for name in re.findall(r"`(_[a-z_]+)`", text):
        assert hasattr(call, name), f"docs/architecture.md names call.{name}, which is gone"
    assert hasattr(common, "open_session") and hasattr(after_dial, "follow_call")
