"""The call flow with an account it can read: pickers, offline warnings, remembered choices."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from helpers import TOKEN, TOKEN_ID, ScriptedPrompter, flat, make_context, output_of

from sipgate_tui.commands.call import CallOptions, run
from sipgate_tui.errors import AppError, Cancelled
from sipgate_tui.settings import SettingsStore
from sipgate_tui.simulator import SimulatedDevice, SimulatedToken, SipgateSimulator


def settings_store(tmp_path: Path) -> SettingsStore:
    return SettingsStore(
        {
            "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "config"),
            "SIPGATE_TUI_STATE_DIR": str(tmp_path / "state"),
        },
        "default",
    )


def interactive(simulator: SipgateSimulator, answers: list[object], tmp_path: Path, **kwargs):
    prompter = ScriptedPrompter(answers)
    ctx = make_context(
        simulator.url, prompter=prompter, terminal=True, settings_dir=tmp_path, **kwargs
    )
    return prompter, ctx


def test_the_device_picker_lists_callable_phones_offline_last(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    simulator.devices += [
        SimulatedDevice("f0", "Fax", type="FAX"),
        SimulatedDevice("w0", "Web user"),
    ]
    prompter, ctx = interactive(
        simulator, ["0157 99912345", "Home phone", "own number", True], tmp_path
    )
    run(CallOptions(), ctx)
    assert prompter.menus[0] == [
        "Desk phone (e0) · online",
        "Home phone (x0) · online",
        "Mobile (y0) · online",
        "Softphone (laptop) (e1) · offline",
        "Another device: type its id",
    ]
    assert simulator.call_requests()[0].json["caller"] == "x0"


def test_the_remembered_phone_comes_first_and_is_the_default(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    settings_store(tmp_path).remember_call("+4915799912345", "y0")
    prompter, ctx = interactive(simulator, ["", 0, "own number", True], tmp_path)
    run(CallOptions(), ctx)
    assert prompter.menus[0][0] == "Mobile (y0) · online"
    assert prompter.defaults[0] == "Mobile (y0) · online"
    # Enter on the empty callee line calls the last number again.
    assert prompter.placeholders[0] == "Enter: the last number again"
    assert simulator.call_requests()[0].json == {"caller": "y0", "callee": "+4915799912345"}


def test_a_configured_default_device_beats_the_last_one(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    store = settings_store(tmp_path)
    store.remember_call("+4915799912345", "y0")
    store.set_value("default_device", "x0")
    prompter, ctx = interactive(simulator, ["", 0, "own number", True], tmp_path)
    run(CallOptions(), ctx)
    assert prompter.menus[0][0] == "Home phone (x0) · online"


def test_choosing_an_offline_phone_warns_and_offers_another(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    prompter, ctx = interactive(
        simulator,
        ["0157 99912345", "Softphone", "Pick another", "Desk phone", "own number", True],
        tmp_path,
    )
    run(CallOptions(), ctx)
    assert prompter.questions[:4] == [
        "Whom do you want to call?",
        "Which phone rings first?",
        "What now?",
        "Which phone rings first?",
    ]
    assert prompter.defaults[1] == "Pick another phone"  # never "Call anyway" by default
    assert "is offline: sipgate accepts the call, but nothing rings" in flat(output_of(ctx.out))
    assert simulator.call_requests()[0].json["caller"] == "e0"


def test_an_offline_phone_can_still_be_called_deliberately(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    _, ctx = interactive(
        simulator, ["0157 99912345", "Softphone", "Call anyway", "own number", True], tmp_path
    )
    run(CallOptions(), ctx)
    assert simulator.call_requests()[0].json["caller"] == "e1"


def test_an_offline_device_given_as_option_is_warned_about_before_dialing(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    prompter, ctx = interactive(simulator, ["Cancel"], tmp_path)
    with pytest.raises(Cancelled):
        run(CallOptions(callee="0157 99912345", device="e1"), ctx)
    assert prompter.menus[0] == ["Call anyway", "Pick another phone", "Cancel"]
    assert simulator.call_requests() == []


def test_a_device_that_is_not_yours_is_warned_about(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    _, ctx = interactive(simulator, ["Cancel"], tmp_path)
    with pytest.raises(Cancelled):
        run(CallOptions(callee="0157 99912345", device="e9"), ctx)
    assert "e9 is not one of your phones (yours: e0, e1, y0, x0)" in flat(output_of(ctx.out))


def test_with_yes_the_offline_warning_comes_with_the_result(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    ctx = make_context(simulator.url, settings_dir=tmp_path)
    run(CallOptions(callee="0157 99912345", device="e1", yes=True, json=True), ctx)
    document = json.loads(output_of(ctx.out))
    assert document["ok"] is True
    assert any("is offline" in warning for warning in document["warnings"])


def test_with_yes_a_slow_device_check_never_delays_the_call(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    simulator.respond_with(200, {"items": []}, path="/w0/devices", delay=3)
    settings_store(tmp_path).remember_user(TOKEN_ID, "w0")  # one request less to wait for
    ctx = make_context(simulator.url, settings_dir=tmp_path)
    started = time.monotonic()
    run(CallOptions(callee="0157 99912345", device="e1", yes=True, json=True), ctx)
    assert time.monotonic() - started < 2  # the POST, plus at most a short grace for the check
    assert json.loads(output_of(ctx.out))["warnings"] == [
        "Whether e1 is online could not be checked in time."
    ]
    assert len(simulator.call_requests()) == 1


def test_the_caller_id_picker_offers_the_accounts_numbers(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    settings_store(tmp_path).set_value("default_caller_id", "+492115550001")
    prompter, ctx = interactive(
        simulator, ["0157 99912345", "Desk phone", "+49 211 5550001", True], tmp_path
    )
    run(CallOptions(), ctx)
    assert prompter.menus[1] == [
        "The phone's own number",
        "+49 211 5550001  (landline, Main line)",
        "Another number: type it",
    ]
    assert prompter.defaults[1] == "+49 211 5550001  (landline, Main line)"
    assert simulator.call_requests()[0].json["callerId"] == "+492115550001"


def test_favourites_and_recent_numbers_are_suggested(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    store = settings_store(tmp_path)
    store.set_favourite("mom", "+4915799912345")
    store.remember_call("+492115550099", "e0", "+49 211 5550099")
    prompter, ctx = interactive(simulator, ["MOM", "Desk phone", "own number", True], tmp_path)
    run(CallOptions(), ctx)
    suggested = [(s.text, s.shown_note) for s in prompter.suggestions[0]]
    assert ("mom", "+49 1579 9912345") in suggested
    assert ("+49 211 5550099", "recent") in suggested
    assert "mom · +49 1579 9912345" in flat(output_of(ctx.out))
    assert simulator.call_requests()[0].json["callee"] == "+4915799912345"


def test_a_favourite_by_name_on_the_command_line(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    settings_store(tmp_path).set_favourite("mom", "+4915799912345")
    ctx = make_context(simulator.url, settings_dir=tmp_path)
    run(CallOptions(callee="mom", device="e0", yes=True), ctx)
    assert simulator.call_requests()[0].json["callee"] == "+4915799912345"
    with pytest.raises(AppError) as caught:
        run(CallOptions(callee="dad", device="e0", yes=True), ctx)
    assert "neither a number nor one of your favourites (mom)" in caught.value.message


def test_scripts_use_the_configured_defaults(simulator: SipgateSimulator, tmp_path: Path) -> None:
    store = settings_store(tmp_path)
    store.set_value("default_device", "y0")
    store.set_value("default_caller_id", "+492115550001")
    ctx = make_context(simulator.url, settings_dir=tmp_path)
    run(CallOptions(callee="0157 99912345", yes=True), ctx)
    assert simulator.call_requests()[0].json == {
        "caller": "y0",
        "callee": "+4915799912345",
        "callerId": "+492115550001",
    }


@pytest.mark.parametrize("how", ["option", "config"])
def test_history_can_be_turned_off(simulator: SipgateSimulator, tmp_path: Path, how: str) -> None:
    store = settings_store(tmp_path)
    if how == "config":
        store.set_value("history", False)
    ctx = make_context(simulator.url, settings_dir=tmp_path)
    run(CallOptions(callee="0157 99912345", device="e0", yes=True, history=how != "option"), ctx)
    assert store.load_state().recent == ()


def test_a_call_is_remembered(simulator: SipgateSimulator, tmp_path: Path) -> None:
    ctx = make_context(simulator.url, settings_dir=tmp_path)
    run(CallOptions(callee="0157 99912345", device="y0", yes=True), ctx)
    state = settings_store(tmp_path).load_state()
    assert state.recent[0].number == "+4915799912345" and state.last_device == "y0"


def test_without_read_scopes_the_questions_fall_back_to_typing(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    simulator.tokens[TOKEN_ID] = SimulatedToken(TOKEN, frozenset({"sessions:calls:write"}))
    prompter, ctx = interactive(simulator, ["0157 99912345", "e0", "", True], tmp_path)
    run(CallOptions(), ctx)
    assert prompter.menus == []
    shown = flat(output_of(ctx.out))
    assert "lacks the scope devices:read" in shown and "lacks the scope numbers:read" in shown


def test_a_slow_api_falls_back_to_typing_without_blocking(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    simulator.respond_with(200, {"items": []}, path="/w0/devices", delay=3)
    simulator.respond_with(200, {"items": []}, path="/numbers", delay=3)
    prompter, ctx = interactive(
        simulator, ["0157 99912345", "e0", "", True], tmp_path, lookup_wait=0.2
    )
    started = time.monotonic()
    run(CallOptions(), ctx)
    assert time.monotonic() - started < 2.5
    assert "sipgate is slow to list your phones" in flat(output_of(ctx.out))
    assert prompter.menus == []


def test_lookups_share_one_connection_pool_with_the_call(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    _, ctx = interactive(simulator, ["0157 99912345", "Desk phone", "own number", True], tmp_path)
    run(CallOptions(), ctx)
    lookup_ports = {r.peer[1] for r in simulator.requests if r.method == "GET"}
    assert simulator.call_requests()[0].peer[1] in lookup_ports  # a reused keep-alive connection


def test_the_user_id_is_looked_up_once(simulator: SipgateSimulator, tmp_path: Path) -> None:
    for _ in range(2):
        _, ctx = interactive(
            simulator, ["0157 99912345", "Desk phone", "own number", True], tmp_path
        )
        run(CallOptions(), ctx)
    assert [r.path for r in simulator.requests].count("/authorization/userinfo") == 1


def test_a_one_shot_dial_learns_the_user_id_once_and_then_never_asks_again(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    one_shot = CallOptions(callee="0157 99912345", device="e0", yes=True, json=True)
    for _ in range(3):
        run(one_shot, make_context(simulator.url, settings_dir=tmp_path))
    paths = [r.path for r in simulator.requests]
    assert paths.count("/authorization/userinfo") == 1  # the first dial's device check asked
    assert len(simulator.call_requests()) == 3
    assert settings_store(tmp_path).load_state().user_id_for(TOKEN_ID) == "w0"


def test_a_one_shot_dial_with_a_known_user_id_makes_no_userinfo_request(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    settings_store(tmp_path).remember_user(TOKEN_ID, "w0")
    ctx = make_context(simulator.url, settings_dir=tmp_path)
    run(CallOptions(callee="0157 99912345", device="e0", yes=True), ctx)
    paths = [r.path for r in simulator.requests]
    assert "/authorization/userinfo" not in paths
    assert paths.count("/sessions/calls") == 1


def test_a_cached_user_id_of_another_token_is_not_used(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    settings_store(tmp_path).remember_user("token-OTHER1", "w9")
    ctx = make_context(simulator.url, settings_dir=tmp_path)
    run(CallOptions(callee="0157 99912345", device="e0", yes=True), ctx)
    paths = [r.path for r in simulator.requests]
    assert "/w9/devices" not in paths and "/authorization/userinfo" in paths
    assert settings_store(tmp_path).load_state().user_id_for(TOKEN_ID) == "w0"


def test_an_offline_device_given_as_option_can_be_swapped_for_another(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    _, ctx = interactive(simulator, ["Pick another", "Desk phone", True], tmp_path)
    run(CallOptions(callee="0157 99912345", device="e1"), ctx)
    assert simulator.call_requests()[0].json["caller"] == "e0"


def test_a_typed_device_that_is_not_yours_is_warned_about(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    _, ctx = interactive(
        simulator,
        ["0157 99912345", "type its id", "e9", "Pick another", "Desk phone", "own number", True],
        tmp_path,
    )
    run(CallOptions(), ctx)
    assert "e9 is not one of your phones" in flat(output_of(ctx.out))
    assert simulator.call_requests()[0].json["caller"] == "e0"


def test_typed_answers_start_from_the_configured_defaults(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    simulator.tokens[TOKEN_ID] = SimulatedToken(TOKEN, frozenset({"sessions:calls:write"}))
    store = settings_store(tmp_path)
    store.set_value("default_device", "x0")
    store.set_value("default_caller_id", "+492115550001")
    prompter = DefaultsPrompter(["0157 99912345", True])
    ctx = make_context(simulator.url, prompter=prompter, terminal=True, settings_dir=tmp_path)
    run(CallOptions(), ctx)
    assert simulator.call_requests()[0].json == {
        "caller": "x0",
        "callee": "+4915799912345",
        "callerId": "+492115550001",
    }


class DefaultsPrompter(ScriptedPrompter):
    """Presses Enter on the device and caller-ID lines: their default text is the answer."""

    def text(self, message, *, default="", **kwargs):
        if message in ("Which phone rings first?", "Which number should they see?"):
            self.questions.append(message)
            return default
        return super().text(message, default=default, **kwargs)


def test_with_history_off_no_recent_number_is_offered(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    store = settings_store(tmp_path)
    store.remember_call("+4915799912345", "y0")
    store.set_value("history", False)
    prompter, ctx = interactive(simulator, ["0211 5550001", 0, "own number", True], tmp_path)
    run(CallOptions(), ctx)
    assert prompter.suggestions[0] == []
    assert prompter.placeholders[0] != "Enter: the last number again"
    assert prompter.menus[0][0].startswith("Desk phone")  # not the last-used Mobile


def test_a_script_says_where_the_default_device_came_from(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    settings_store(tmp_path).set_value("default_device", "e9")
    ctx = make_context(simulator.url, settings_dir=tmp_path)
    with pytest.raises(AppError):
        run(CallOptions(callee="0157 99912345", yes=True, json=True), ctx)
    ctx = make_context(simulator.url, settings_dir=tmp_path)
    settings_store(tmp_path).set_value("default_device", "e0")
    run(CallOptions(callee="0157 99912345", yes=True, json=True), ctx)
    warnings = json.loads(output_of(ctx.out))["warnings"]
    assert any("the default-device in" in w for w in warnings)


def test_an_exact_favourite_name_beats_one_in_another_case(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(
        '[profiles.default.favourites]\nMom = "+492115550001"\nmom = "+4915799912345"\n'
    )
    run(
        CallOptions(callee="mom", device="e0", yes=True),
        make_context(simulator.url, settings_dir=tmp_path),
    )
    assert simulator.call_requests()[0].json["callee"] == "+4915799912345"
