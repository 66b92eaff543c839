"""What the package says about itself: one version (sipgate_tui/__init__.py) that the CHANGELOG's
newest entry names, and Python classifiers that are exactly the versions CI tests, with the README
naming the claimed versions that are not tested. (.ci/check-package checks the built files.)"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import sipgate_tui

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
# Claimed by requires-python (>=3.10) and released or due: the newest CPython the README names.
NEWEST_PYTHON = (3, 14)


def _pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def _classified_versions() -> set[str]:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    found = (
        re.fullmatch(r"Programming Language :: Python :: (3\.\d+)", c)
        for c in project["classifiers"]
    )
    return {m[1] for m in found if m}


def _platforms_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Platforms\n(.*?)(?=^## )", readme, flags=re.S | re.M)
    assert match, "README.md has no '## Platforms' section"
    return match[1]


def test_the_changelogs_newest_entry_is_the_package_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    entries = re.findall(r"^## (\S+)", changelog, flags=re.M)
    assert entries, "CHANGELOG.md has no '## <version>' entry"
    assert entries[0] == sipgate_tui.__version__


def test_the_version_is_read_from_the_package_only() -> None:
    pyproject = _pyproject()
    project = pyproject["project"]
    assert isinstance(project, dict)
    assert "version" not in project and project["dynamic"] == ["version"]
    assert pyproject["tool"]["hatch"]["version"] == {"path": "sipgate_tui/__init__.py"}  # type: ignore[index]


def test_the_classifiers_are_the_tested_pythons_and_the_readme_names_the_rest() -> None:
    section = _platforms_section()
    tested_line = re.search(r"^Tested with Python:? (.*)$", section, flags=re.M)
    untested_line = re.search(r"^Claimed, not tested:? (.*)$", section, flags=re.M)
    assert tested_line and untested_line, section
    tested = set(re.findall(r"3\.\d+", tested_line[1]))
    untested = set(re.findall(r"3\.\d+", untested_line[1]))
    assert _classified_versions() == tested
    claimed = {f"3.{minor}" for minor in range(10, NEWEST_PYTHON[1] + 1)}
    assert untested == claimed - tested
