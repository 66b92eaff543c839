"""Shell completion that knows the user's data, from local files only.

``sipgate-tui call M<Tab>`` completes ``mom``: favourite names and contact names for ``call``,
favourite names for ``favourites remove``, device ids for ``--device`` (and ``config set
default-device``), profile names for ``--profile``. Every answer comes from files on this
computer: ``config.toml``, the state file (which keeps the device list whenever sipgate-tui
reads it, see ``SettingsStore.remember_devices``) and the contacts cache. Never a request, never
the keyring (which may ask to be unlocked): a Tab must answer at once.

A completion never fails where the user sees it: a damaged, missing or odd file (a FIFO in
its place, not UTF-8, too large) completes nothing, and anything unexpected ends the
completion silently instead of printing a traceback into the command line.

The shell side is Typer's (``--show-completion`` / ``--install-completion``, its bash and zsh
scripts, its installers), with these changes, made in :class:`CompletingGroup`: both flags take
the shell's name (``bash``, ``zsh``, ``fish``; detected when left out); zsh gets the candidates
without matching them again, so that names complete whatever case was typed (``M`` -> ``mom``),
as in bash and fish; fish's script runs the app once per Tab, not twice (:data:`FISH_SCRIPT`);
a ``--profile`` after the command counts (:func:`hoist_profile`).

Import-light: ``cli.py`` imports this module, so it imports only what ``typer`` has already
loaded; the readers import ``json``, ``tomllib`` and ``platformdirs`` when a Tab asks, and
neither settings.py nor the contacts modules (their imports alone would double what a Tab
costs beyond Python and Typer).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

# cli.py has imported typer before this module: these cost nothing more.
from typer import _click  # noqa: TID253
from typer.core import TyperGroup  # noqa: TID253

from sipgate_tui.small_files import read_small_file

PROG_NAME = "sipgate-tui"
COMPLETE_VAR = "_SIPGATE_TUI_COMPLETE"
SHELLS = ("bash", "zsh", "fish")
MAX_FILE_BYTES = 1 << 20  # settings files; the same bound as settings.MAX_FILE_BYTES
MAX_ITEMS = 200  # more candidates than a shell shows usefully
# The contacts cache as completion reads it (contacts_cache.CACHE_VERSION; a test keeps them
# equal). Larger caches (about 40,000 contacts and more) complete no contact names: reading
# them would make a Tab wait.
CACHE_VERSION = 1
MAX_CACHE_BYTES = 8 << 20

Found = list[tuple[str, "str | None"]]  # (the word to put in, a description or None)


class _Folded(str):
    """A candidate that matches what was typed whatever its case and accents. Typer keeps
    only the candidates for which ``value.startswith(incomplete)``, which is case-sensitive,
    and "M" must find "mom": the callbacks filter by :func:`fold`-ed prefix themselves, and
    their values answer Typer's test the same way (Typer's own ``autocompletion`` interface;
    click's ``shell_complete`` would do without this, but Typer warns on every run that it is
    deprecated)."""

    __slots__ = ()

    def startswith(self, prefix: Any, *bounds: Any) -> bool:
        if isinstance(prefix, str) and not bounds:
            return fold(self).startswith(fold(prefix))
        return str.startswith(self, prefix, *bounds)


# -- the callbacks ---------------------------------------------------------------------------


def callee_names(ctx: _click.Context, incomplete: str) -> Found:
    """``call NAME``: favourite names, then contact names (case-insensitive prefix).

    CALLEE takes several words (``call Ada Lovelace``): the words typed before the one being
    completed count as the start of the name, and the rest of the name is offered."""

    def find() -> list[tuple[str, str | None]]:
        env, profile = os.environ, profile_of(ctx)
        typed = [str(word) for word in (ctx.params.get("callee") or ())]
        found = [(name, "favourite") for name in favourite_names(env, profile)] if not typed else []
        # Contacts from the second letter on: one letter matches hundreds of a large
        # phonebook's names (no use as a list), and reading the cache is most of a Tab's cost.
        if len(" ".join([*typed, incomplete]).strip()) >= 2:
            found += [(name, "contact") for name in contact_names(env, profile)]
        return _rest_of_names(found, typed, incomplete)

    return _safely(find)


def favourites(ctx: _click.Context, incomplete: str) -> Found:
    """``favourites remove NAME``: this profile's favourite names."""

    def find() -> list[tuple[str, str | None]]:
        names = favourite_names(os.environ, profile_of(ctx))
        return [(name, None) for name in names if _starts(name, incomplete)]

    return _safely(find)


def devices(ctx: _click.Context, incomplete: str) -> Found:
    """``--device``/``-d``: the device ids last listed for this profile, the name beside."""

    def find() -> list[tuple[str, str | None]]:
        known = device_ids(os.environ, profile_of(ctx))
        return [(device_id, alias) for device_id, alias in known if _starts(device_id, incomplete)]

    return _safely(find)


def profiles(ctx: _click.Context, incomplete: str) -> Found:
    """``--profile``: the profiles config.toml and the state file know."""

    def find() -> list[tuple[str, str | None]]:
        return [(name, None) for name in profile_names(os.environ) if _starts(name, incomplete)]

    return _safely(find)


def setting_values(ctx: _click.Context, incomplete: str) -> Found:
    """``config set KEY VALUE``: device ids for default-device, the choices of the settings
    that take one of a few words; nothing for the others (a number is typed)."""

    def find() -> list[tuple[str, str | None]]:
        from sipgate_tui.setting_keys import BY_NAME

        key = str(ctx.params.get("key") or "")
        if ctx.params.get("value"):
            return []  # one value per key
        if key == "default-device":
            known = device_ids(os.environ, profile_of(ctx))
            return [(found, alias) for found, alias in known if _starts(found, incomplete)]
        setting = BY_NAME.get(key)
        choices = setting.choices if setting is not None else ()
        return [(choice, None) for choice in choices if _starts(choice, incomplete)]

    return _safely(find)


def _safely(find: Callable[[], Found]) -> Found:
    """The candidates, each once, as Typer takes them; nothing at all when reading them
    failed in any way (a completion that prints a traceback lands in the user's line)."""
    try:
        found = find()
    except Exception:  # noqa: BLE001 - a Tab must never fail: no candidates instead
        return []
    items: Found = []
    seen: set[str] = set()
    for value, note in found:
        if value in seen or not _printable(value):
            continue
        seen.add(value)
        items.append((_Folded(value), _one_line(note) if note else None))
        if len(items) >= MAX_ITEMS:
            break
    return items


def _starts(name: str, incomplete: str) -> bool:
    return fold(name).startswith(fold(incomplete))


def fold(text: str) -> str:
    """``text`` without case and accents ("Müller" -> "muller"), as typed names are matched."""
    if text.isascii():
        return text.casefold()
    import unicodedata

    parts = unicodedata.normalize("NFKD", text.casefold())
    return "".join(part for part in parts if not unicodedata.combining(part))


def _rest_of_names(
    found: Iterable[tuple[str, str | None]], typed: Sequence[str], incomplete: str
) -> list[tuple[str, str | None]]:
    """Names that start with the words typed so far plus ``incomplete``, as the word to put
    in place of ``incomplete``: all of a one-word name, the rest of a longer one."""
    start = fold(" ".join([*typed, incomplete]))
    skip = len(typed)
    out: list[tuple[str, str | None]] = []
    for name, note in found:
        words = name.split()
        if len(words) > skip and fold(" ".join(words)).startswith(start):
            out.append((" ".join(words[skip:]), note))
    return out


def _printable(text: str) -> bool:
    """No control character, nothing a shell would split on as a line: the value is typed
    into the command line as it is."""
    return bool(text) and text.isprintable()


def _one_line(text: str) -> str:
    from sipgate_tui.text import one_line

    return one_line(text, 60)


# -- what the files hold ---------------------------------------------------------------------


def profile_of(ctx: _click.Context) -> str:
    """The profile the command line selects: ``--profile`` before the command (click put it in
    the root's parameters, with SIPGATE_PROFILE and the default behind it; one given after the
    command was moved before it by :func:`hoist_profile`), else ``default``."""
    value = ctx.find_root().params.get("profile")
    if not isinstance(value, str) or not value:
        value = os.environ.get("SIPGATE_PROFILE") or "default"
    return value


def favourite_names(env: Mapping[str, str], profile: str) -> list[str]:
    """The favourite names of ``profile`` in config.toml, as written there (unvalidated: the
    numbers are not parsed, which would cost the phone-number library's import)."""
    table = _profile_table(_config(env), profile)
    entries = table.get("favourites") if table is not None else None
    if not isinstance(entries, dict):
        return []
    return sorted((str(name) for name in entries), key=str.casefold)


def device_ids(env: Mapping[str, str], profile: str) -> list[tuple[str, str]]:
    """The devices (id, name) the state file keeps for ``profile``; with SIPGATE_TOKEN_ID set,
    only a list fetched with that token id (another token may be another account). The
    record is the one ``SettingsStore.remember_devices`` writes; anything else: no devices."""
    entry = _state_entry(_state(env), profile)
    record = entry.get("devices") if entry is not None else None
    if not isinstance(record, dict):
        return []
    token_id = env.get("SIPGATE_TOKEN_ID", "").strip() or None
    if token_id is not None and record.get("token_id") != token_id:
        return []
    items = record.get("items")
    return [
        (item[0], item[1])
        for item in (items if isinstance(items, list) else [])
        if type(item) is list
        and len(item) == 2
        and all(type(part) is str and part.isprintable() for part in item)
    ]


def profile_names(env: Mapping[str, str]) -> list[str]:
    """Profile names from config.toml's ``[profiles.NAME]`` tables and the state file, plus
    ``default``; only names a profile can have."""
    import re

    names = {"default"}
    for data in (_config(env), _state(env)):
        table = data.get("profiles") if data is not None else None
        if isinstance(table, dict):
            names.update(str(name) for name in table)
    usable = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")  # credentials.check_profile's rule
    return sorted((name for name in names if usable.fullmatch(name)), key=str.casefold)


def contact_names(env: Mapping[str, str], profile: str) -> list[str]:
    """Names (and companies without a name) from the profile's contacts cache, if it was
    fetched with the token id sipgate-tui knows for the profile without the keyring:
    SIPGATE_TOKEN_ID, else the one the state file names (the device list's, else the cached
    user id's). Unknown token id, another token id or no cache: no names.

    The file is read here, not through ``contacts_cache.load``: a Tab needs the names only,
    and loading makes every contact with its numbers (about 100 ms for 10,000, with the
    imports, measured with benchmarks/completion.py). tests/test_completion.py keeps the
    two readers in step: the same path, the same names, the same token rule."""
    token_id = env.get("SIPGATE_TOKEN_ID", "").strip() or _remembered_token_id(env, profile)
    if token_id is None:
        return []
    import json
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}", profile):
        return []  # never a path made of an odd name (contacts_cache.cache_path's rule)
    text = read_small_file(app_dir(env, "cache") / f"contacts-{profile}.json", MAX_CACHE_BYTES)
    try:
        document = json.loads(text) if text is not None else None
    except (ValueError, RecursionError):
        return []
    if not isinstance(document, dict) or document.get("version") != CACHE_VERSION:
        return []
    entries = document.get("contacts") if document.get("tokenId") == token_id else None
    names: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        # [id, name, organization, phonebook, numbers, key, digits]; the name is never empty
        # when there is an organization (a company is named by it).
        if type(entry) is list and len(entry) == 7 and type(entry[1]) is str and entry[1]:
            names.append(entry[1])
    return names


def _remembered_token_id(env: Mapping[str, str], profile: str) -> str | None:
    entry = _state_entry(_state(env), profile)
    if entry is None:
        return None
    listed = entry.get("devices")
    for value in (
        listed.get("token_id") if isinstance(listed, dict) else None,
        entry.get("user_token_id"),
        entry.get("account_type_token_id"),
    ):
        if isinstance(value, str) and value:
            return value
    return None


def app_dir(env: Mapping[str, str], kind: str) -> Path:
    """``settings.config_dir`` / ``state_dir`` (kind "config" or "state"), and the contacts
    cache's directory (kind "cache"), without importing those modules: settings.py makes its
    dataclasses on import, which costs a Tab about 20 ms (benchmarks/completion.py).
    tests/test_completion.py keeps the paths equal."""
    override = env.get(f"SIPGATE_TUI_{kind.upper()}_DIR", "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs

    where = {
        "config": platformdirs.user_config_dir,
        "state": platformdirs.user_state_dir,
        "cache": platformdirs.user_cache_dir,
    }[kind]
    return Path(where(PROG_NAME, appauthor=False))


def _config(env: Mapping[str, str]) -> dict[str, Any] | None:
    text = read_small_file(app_dir(env, "config") / "config.toml", MAX_FILE_BYTES)
    if text is None:
        return None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        return None


def _state(env: Mapping[str, str]) -> dict[str, Any] | None:
    import json

    text = read_small_file(app_dir(env, "state") / "state.json", MAX_FILE_BYTES)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _profile_table(data: dict[str, Any] | None, profile: str) -> dict[str, Any] | None:
    table = data.get("profiles") if data is not None else None
    entry = table.get(profile) if isinstance(table, dict) else None
    return entry if isinstance(entry, dict) else None


_state_entry = _profile_table  # the state file has the same shape: profiles -> NAME -> table


# -- the shells ----------------------------------------------------------------------------------


class CompletingGroup(TyperGroup):
    """The app's root group, with sipgate-tui's completion flags and shells.

    ``--show-completion [SHELL]`` prints the script, ``--install-completion [SHELL]`` installs
    it (Typer's installers: ``~/.bash_completions``, ``~/.zfunc``, fish's completions folder);
    without SHELL, the shell is detected. cli.py creates the app with ``add_completion=False``
    and this class, so Typer adds no flags of its own.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_completion_options())

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        """The completion flags first: they take an optional shell name, which click's
        options (a flag, or a value that must be there) cannot say."""
        if not ctx.resilient_parsing:
            request = completion_request(args, _value_options(self))
            if request is not None:
                _carry_out(ctx, *request)
        parsed: list[str] = super().parse_args(ctx, args)
        return parsed

    def _main_shell_completion(
        self, ctx_args: MutableMapping[str, Any], prog_name: str, complete_var: str | None = None
    ) -> None:
        name = complete_var or f"_{prog_name}_COMPLETE".replace("-", "_").upper()
        if not os.environ.get(name):
            return
        try:
            _register_shells()
            super()._main_shell_completion(ctx_args, prog_name, complete_var)
        except Exception:  # noqa: BLE001 - a bug must not print a traceback into the line
            sys.exit(1)


def _completion_options() -> list[_click.Parameter]:
    """The two flags as --help lists them (CompletingGroup.parse_args acts on them)."""
    from typer.core import TyperOption

    flags = (
        (
            "--install-completion",
            "Install completion for SHELL (bash, zsh or fish; default: the shell this runs in).",
        ),
        (
            "--show-completion",
            "Print the completion script for SHELL (default: this shell), "
            "to install it your own way.",
        ),
    )
    return [
        TyperOption(
            param_decls=[name],
            is_flag=True,
            default=False,
            expose_value=False,
            metavar="[SHELL]",
            help=words,
        )
        for name, words in flags
    ]


def completion_request(args: Sequence[str], value_options: set[str]) -> tuple[str, str] | None:
    """``("show"|"install", shell)`` when the global options ask for a completion script
    (``--show-completion zsh``, ``--show-completion=zsh``, or without the shell: "auto"); a
    word after the flag is the shell's name (``tcsh`` is then refused, not taken for bash)."""
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] != "--":
        flag, _, given = args[index].partition("=")
        if flag in ("--show-completion", "--install-completion"):
            following = args[index + 1] if index + 1 < len(args) else "-"
            shell = given or (following if not following.startswith("-") else "auto")
            return flag.split("-")[2], shell
        index += 2 if flag in value_options and not given else 1
    return None


def _carry_out(ctx: _click.Context, action: str, shell: str) -> None:
    """Print or install the script for ``shell``, then end the run (exit 0)."""
    from typer._click.exceptions import UsageError

    if shell == "auto":
        from typer._completion_shared import _get_shell_name

        shell = _get_shell_name() or "not detected"
    if shell not in SHELLS:
        # A usage error (exit 2): cli.main shows it like any other, with --help's hint.
        raise UsageError(
            f"Completion is for bash, zsh or fish, not '{shell[:20]}': name the shell, "
            "e.g. sipgate-tui --show-completion zsh.",
            ctx,
        )
    if action == "show":
        print(completion_script(shell))
    else:
        path = _install_fish() if shell == "fish" else _install_typer(shell)
        print(f"{shell} completion installed in {path}; it works in shells started from now on.")
    ctx.exit(0)


def _install_typer(shell: str) -> str:
    from typer._completion_shared import install

    return str(install(shell=shell, prog_name=PROG_NAME, complete_var=COMPLETE_VAR)[1])


def _install_fish() -> str:
    """Where Typer's installer puts it (fish loads it from there by itself), with our script."""
    path = Path.home() / ".config" / "fish" / "completions" / f"{PROG_NAME}.fish"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(completion_script("fish") + "\n", encoding="utf-8")
    return str(path)


# Typer's fish script runs the app twice per Tab (once to ask whether there are candidates,
# once for them), which doubles the wait; no argument of sipgate-tui is a file, so one run
# that never offers files answers the same.
FISH_SCRIPT = """\
function __sipgate_tui_complete
    env _SIPGATE_TUI_COMPLETE=complete_fish _TYPER_COMPLETE_FISH_ACTION=get-args \\
        _TYPER_COMPLETE_ARGS=(commandline -cp) sipgate-tui
end
complete --command sipgate-tui --no-files --arguments '(__sipgate_tui_complete)'"""


def completion_script(shell: str) -> str:
    """The script that makes ``shell`` ask sipgate-tui for completions."""
    if shell == "fish":
        return FISH_SCRIPT
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name=PROG_NAME, complete_var=COMPLETE_VAR, shell=shell)


def _register_shells() -> None:
    """Typer's shells, with zsh's answer replaced (see the module's docstring) and a --profile
    given after the command noted for :func:`profile_of`."""
    from typer._click.shell_completion import add_completion_class
    from typer._completion_classes import (
        BashComplete,
        FishComplete,
        ZshComplete,
        completion_init,
    )

    completion_init()

    def hoisting(base: type[Any]) -> type[Any]:
        class Shell(base):  # type: ignore[misc]
            def get_completions(self, args: list[str], incomplete: str) -> list[Any]:
                # --version's callback prints even while click only parses for completion,
                # which would put the version into the candidates; it completes nothing.
                kept = [word for word in args if word != "--version"]
                moved = hoist_profile(kept, _value_options(self.cli))
                completions: list[Any] = super().get_completions(moved, incomplete)
                return completions

        Shell.__name__ = base.__name__
        return Shell

    class Zsh(hoisting(ZshComplete)):  # type: ignore[misc]
        def complete(self) -> str:
            args, incomplete = self.get_completion_args()
            return zsh_answer(self.get_completions(args, incomplete))

    add_completion_class(hoisting(BashComplete), "bash")
    add_completion_class(Zsh, "zsh")
    add_completion_class(hoisting(FishComplete), "fish")


def _value_options(group: _click.Command) -> set[str]:
    """The root's options that take a value (--profile, --api-url, ...)."""
    return {
        name
        for param in group.params
        if param.param_type_name == "option" and not getattr(param, "is_flag", True)
        for name in param.opts
    }


def hoist_profile(args: Sequence[str], value_options: set[str]) -> list[str]:
    """``args`` with a ``--profile`` given after the command moved before it, as a run does
    (cli.hoist_global_options) and click's completion does not; so the profile's files are the
    ones read. A ``--profile`` at the end, its value being typed, becomes the root's option."""
    words = list(args)
    index = 0
    while index < len(words) and words[index].startswith("-") and words[index] != "--":
        index += 2 if words[index] in value_options else 1
    for at in range(index + 1, len(words)):
        word = words[at]
        if word == "--":
            break
        if word.startswith("--profile="):
            return [word, *words[:at], *words[at + 1 :]]
        if word == "--profile":
            if at + 1 == len(words):
                return ["--profile"]
            return [word, words[at + 1], *words[:at], *words[at + 2 :]]
    return words


def zsh_answer(items: Sequence[Any]) -> str:
    """zsh code that offers ``items`` as they are: with ``-U``, zsh does not match them against
    the word again (its match is case-sensitive: "M" would not find "mom"); names with a
    description are shown with it. The script evals this text."""
    if not items:
        return ""
    entries = []
    for item in items:
        value = str(item.value).replace("\\", "\\\\").replace(":", "\\:")
        entry = f"{value}:{' '.join(str(item.help).split())}" if item.help else value
        entries.append("'" + entry.replace("'", "'\\''") + "'")
    return (
        f"local -a _sipgate_tui_found; _sipgate_tui_found=({' '.join(entries)}); "
        "_describe -V unsorted value _sipgate_tui_found -U"
    )
