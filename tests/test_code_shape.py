"""Structural guards on sipgate_tui's code: short functions, and no import cycle.

No function grows a body longer than ``MAX_BODY_LINES``: a long body hides several jobs, and
splitting it into named steps is cheap while it is fresh and expensive once features have grown
into it. The count runs from the first statement after the docstring to the body's last line, so
a long signature (Typer's annotated options in cli.py) or a long docstring does not count, and
blank lines and comments inside the body do.

No module imports, however indirectly, one that imports it back, not even inside a function
(where such a cycle hides from Python until the day the import moves to the top).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import sipgate_tui

MAX_BODY_LINES = 80
PACKAGE = Path(sipgate_tui.__file__).parent
Function = ast.FunctionDef | ast.AsyncFunctionDef

# Known offenders ("path:Class.function" -> why, and which issue splits it), for work in
# progress only. Empty since issue 11; the test fails on entries that are no longer too long.
ALLOWED: dict[str, str] = {}


def body_length(function: Function) -> int:
    """Lines from the first statement after the docstring to the end of the function."""
    body = function.body
    if (
        len(body) > 1
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    end = function.end_lineno or body[-1].lineno
    return end - body[0].lineno + 1


def functions(tree: ast.AST) -> Iterator[tuple[str, Function]]:
    """Every function and method in ``tree``, named ``Class.method`` or ``outer.inner``."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, Function]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield prefix + child.name, child
                yield from walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(tree, "")


def long_functions() -> dict[str, int]:
    """``path:name`` -> body length, for every function over the limit."""
    found: dict[str, int] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, function in functions(tree):
            length = body_length(function)
            if length > MAX_BODY_LINES:
                found[f"{path.relative_to(PACKAGE).as_posix()}:{name}"] = length
    return found


def test_no_function_body_is_longer_than_the_limit() -> None:
    too_long = {name: length for name, length in long_functions().items() if name not in ALLOWED}
    assert not too_long, (
        f"function bodies over {MAX_BODY_LINES} lines: {too_long}. Split them into named "
        "steps, each with one job."
    )


def test_the_allow_list_holds_only_functions_still_too_long() -> None:
    stale = set(ALLOWED) - set(long_functions())
    assert not stale, f"no longer too long (or gone): remove from ALLOWED: {sorted(stale)}"


def imports_of_our_modules() -> dict[str, set[str]]:
    """Module name -> the package's modules it imports, at the top or in a function (imports
    under ``if TYPE_CHECKING:`` are for the type checker only and do not count)."""
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        found: set[str] = set()
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:  # `from sipgate_tui import render` is a module too
                    submodule = f"{node.module}.{alias.name}"
                    found.add(submodule if submodule in paths else node.module)
        graph[name] = {module for module in found if module in paths and module != name}
    return graph


def _module_name(path: Path) -> str:
    parts = [PACKAGE.name, *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            for branch in child.orelse:
                yield branch
                yield from _runtime_nodes(branch)
            continue
        yield child
        yield from _runtime_nodes(child)


def import_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle in ``graph`` (``[a, b, a]``), or None."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph[module]):
            cycle = visit(imported, [*path, module])
            if cycle:
                return cycle
        done.add(module)
        return None

    return next(filter(None, (visit(module, []) for module in sorted(graph))), None)


def test_no_module_imports_itself_back() -> None:
    cycle = import_cycle(imports_of_our_modules())
    assert cycle is None, (
        f"import cycle: {' -> '.join(cycle or [])}. Move what both need to the lower module "
        "(or a small new one) and import it from there."
    )


def test_the_cycle_check_finds_cycles_and_sees_function_level_imports() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert import_cycle(graph) == ["a", "b", "c", "a"]
    assert import_cycle({"a": {"b"}, "b": set()}) is None
    assert "sipgate_tui.commands.call" in imports_of_our_modules()["sipgate_tui.cli"]


def test_the_count_skips_signature_and_docstring() -> None:
    source = (
        "def f(\n    a: int,\n    b: int,\n) -> None:\n"
        '    """Doc.\n\n    More."""\n'
        "    x = 1\n\n    y = 2\n"
    )
    (function,) = (node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef))
    assert body_length(function) == 3
