"""Calls on a sipgate Neo account: the account type, the channel, the one safe switch, and
what a classic account keeps exactly as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import TOKEN_ID, ScriptedPrompter, flat, make_context, output_of
from servers import SilentServer

from sipgate_tui.commands.call import CallOptions, run
from sipgate_tui.context import AppContext
from sipgate_tui.errors import AppError, ExitCode
from sipgate_tui.settings import SettingsStore
from sipgate_tui.simulator import SimulatedChannel, SipgateSimulator

ONE_SHOT = CallOptions(callee="0157 99912345", device="e0", yes=True, json=True)


@pytest.fixture
def neo() -> Iterator[SipgateSimulator]:
    with SipgateSimulator(account_type="neo") as sim:
        yield sim


def store(tmp_path: Path) -> SettingsStore:
    return SettingsStore(
        {
            "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "config"),
            "SIPGATE_TUI_STATE_DIR": str(tmp_path / "state"),
        },
        "default",
    )


def posts(simulator: SipgateSimulator) -> list[str]:
    """Every request that could have placed a call, in order."""
    return [
        r.path
        for r in simulator.requests
        if r.method == "POST" and r.path in ("/sessions/calls", "/calls")
    ]


def one_shot(simulator: SipgateSimulator, tmp_path: Path, options: CallOptions = ONE_SHOT):
    ctx = make_context(simulator.url, settings_dir=tmp_path)
    run(options, ctx)
    return json.loads(output_of(ctx.out))


def test_an_unknown_neo_account_is_switched_once_after_the_classic_refusal(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    document = one_shot(neo, tmp_path)
    assert posts(neo) == ["/sessions/calls", "/calls"]  # the first placed nothing: refused
    neo_post = next(r for r in neo.requests if r.path == "/calls" and r.method == "POST")
    assert neo_post.json == {"deviceId": "e0", "targetNumber": "4915799912345", "channelId": "ch0"}
    assert document["accountType"] == "neo"
    assert document["callId"] == document["sessionId"] == neo.neo_calls[0]["callSid"]
    assert document["request"] == neo_post.json
    assert any("This account is sipgate Neo" in warning for warning in document["warnings"])
    assert store(tmp_path).load_state().account_type_for(TOKEN_ID) == "neo"


def test_once_known_a_neo_account_dials_the_neo_way_directly(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    one_shot(neo, tmp_path)
    neo.requests.clear()
    document = one_shot(neo, tmp_path)
    assert posts(neo) == ["/calls"]
    assert not any("This account is sipgate Neo" in w for w in document["warnings"])
    devices = [r for r in neo.requests if r.path.endswith("/devices")]
    assert all(r.query.get("type") == ["all"] for r in devices)  # Neo known: every type


def test_a_classic_account_sends_exactly_what_it_always_sent(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    document = one_shot(simulator, tmp_path)
    assert posts(simulator) == ["/sessions/calls"]
    assert simulator.call_requests()[0].json == {"caller": "e0", "callee": "+4915799912345"}
    assert document["accountType"] == "unknown"  # an accepted classic request does not tell
    assert document["request"] == {"caller": "e0", "callee": "+4915799912345"}
    assert all("type" not in r.query for r in simulator.requests)  # never type=all on classic


def test_several_channels_and_no_terminal_is_a_usage_error_before_anything_is_sent(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    neo.channels.append(SimulatedChannel("ch1", "Sales", ("e0",)))
    ctx = forced(make_context(neo.url, settings_dir=tmp_path), "neo")
    with pytest.raises(AppError) as caught:
        run(ONE_SHOT, ctx)
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.code == "channel-required"
    assert "--channel" in (caught.value.hint or "") and "Sales = ch1" in caught.value.message
    assert posts(neo) == []


def forced(ctx: AppContext, account_type: str) -> AppContext:
    """The context of a run with ``--account-type account_type``."""
    return replace(ctx, options=ctx.options._replace(account_type=account_type))


def test_the_channel_option_picks_one_of_several(neo: SipgateSimulator, tmp_path: Path) -> None:
    neo.channels.append(SimulatedChannel("ch1", "Sales", ("e0",)))
    ctx = forced(make_context(neo.url, settings_dir=tmp_path), "neo")
    run(CallOptions(callee="0157 99912345", device="e0", yes=True, json=True, channel="ch1"), ctx)
    assert posts(neo) == ["/calls"]
    assert next(r for r in neo.requests if r.path == "/calls").json["channelId"] == "ch1"


def test_an_unknown_channel_is_refused_before_anything_is_sent(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    ctx = forced(make_context(neo.url, settings_dir=tmp_path), "neo")
    with pytest.raises(AppError) as caught:
        run(CallOptions(callee="0157 99912345", device="e0", yes=True, channel="nope"), ctx)
    assert caught.value.code == "unknown-channel" and "Main = ch0" in caught.value.message
    assert posts(neo) == []


def test_classic_forced_on_a_neo_account_is_refused_with_the_way_out(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    ctx = forced(make_context(neo.url, settings_dir=tmp_path), "classic")
    with pytest.raises(AppError) as caught:
        run(ONE_SHOT, ctx)
    assert caught.value.exit_code == ExitCode.REFUSED
    assert "sipgate Neo" in caught.value.message and "Nothing was placed" in caught.value.message
    assert "--account-type auto" in (caught.value.hint or "")
    assert posts(neo) == ["/sessions/calls"]


def test_a_refused_neo_dial_is_never_tried_again(neo: SipgateSimulator, tmp_path: Path) -> None:
    neo.respond_with(500, b"", path="/calls")
    with pytest.raises(AppError) as caught:
        one_shot(neo, tmp_path)
    assert caught.value.exit_code == ExitCode.NETWORK
    assert posts(neo) == ["/sessions/calls", "/calls"]


def test_any_other_classic_refusal_never_leads_to_a_neo_request(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    neo.respond_with(403, {"errors": [{"title": "Forbidden"}]}, path="/sessions/calls")
    with pytest.raises(AppError) as caught:
        one_shot(neo, tmp_path)
    assert caught.value.code == "forbidden"
    assert posts(neo) == ["/sessions/calls"]


def test_a_classic_dial_without_an_answer_is_never_followed_by_a_neo_request(
    tmp_path: Path,
) -> None:
    with SilentServer() as silent, pytest.raises(AppError) as caught:
        ctx = make_context(silent.url, settings_dir=tmp_path)
        run(CallOptions(callee="0157 99912345", device="e0", yes=True, timeout=0.3), ctx)
    assert caught.value.exit_code == ExitCode.OUTCOME_UNKNOWN
    assert silent.received.count(b"POST ") == 1 and b"POST /v2/calls" not in silent.received


def test_caller_is_refused_on_a_neo_account(neo: SipgateSimulator, tmp_path: Path) -> None:
    ctx = forced(make_context(neo.url, settings_dir=tmp_path), "neo")
    with pytest.raises(AppError) as caught:
        run(
            CallOptions(callee="0157 99912345", device="e0", caller="+492115550001", yes=True),
            ctx,
        )
    assert caught.value.code == "unsupported-on-neo"
    assert posts(neo) == []


def test_numbers_with_a_plus_when_the_setting_says_so(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    store(tmp_path).set_value("neo_numbers", "plus")
    one_shot(neo, tmp_path, ONE_SHOT._replace(caller_id="+492115550001"))
    neo_post = next(r for r in neo.requests if r.path == "/calls")
    assert neo_post.json["targetNumber"] == "+4915799912345"
    assert neo_post.json["callerId"] == "+492115550001"


def test_the_call_id_field_may_be_call_id(neo: SipgateSimulator, tmp_path: Path) -> None:
    neo.neo_call_id_field = "callId"
    document = one_shot(neo, tmp_path)
    assert document["callId"] == neo.neo_calls[0]["callSid"]


def test_a_dry_run_on_a_known_neo_account_shows_the_neo_request(tmp_path: Path) -> None:
    ctx = forced(make_context("http://127.0.0.1:9/v2", settings_dir=tmp_path), "neo")
    run(CallOptions(callee="0157 99912345", device="e0", dry_run=True, json=True), ctx)
    document = json.loads(output_of(ctx.out))
    assert document["http"]["url"].endswith("/v2/calls")
    assert document["request"] == {"deviceId": "e0", "targetNumber": "4915799912345"}
    assert document["accountType"] == "neo"
    assert any("channel that holds e0" in w for w in document["warnings"])


def test_a_dry_run_of_an_unknown_account_shows_the_classic_request_and_the_neo_variant(
    tmp_path: Path,
) -> None:
    ctx = make_context("http://127.0.0.1:9/v2", settings_dir=tmp_path)
    run(CallOptions(callee="0157 99912345", device="e0", dry_run=True, json=True), ctx)
    document = json.loads(output_of(ctx.out))
    assert document["http"]["url"].endswith("/v2/sessions/calls")
    assert any("POST /calls instead" in w for w in document["warnings"])


def test_a_guided_neo_call_offers_every_phone_marks_the_mobile_and_skips_the_live_view(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    store(tmp_path).remember(account_type=(TOKEN_ID, "neo"))
    prompter = ScriptedPrompter(["0157 99912345", "Desktop app", "own number", True])
    ctx = make_context(neo.url, prompter=prompter, terminal=True, settings_dir=tmp_path)
    run(CallOptions(), ctx)
    menu = prompter.menus[0]
    assert "Desktop app (e2) · online" in menu  # listed only with type=all
    mobile = next(title for title in menu if "(y0)" in title)
    assert "mobile: may be refused" in mobile
    assert menu.index(mobile) == len(menu) - 2  # last of the phones, before "type its id"
    assert posts(neo) == ["/calls"]
    shown = flat(output_of(ctx.out))
    assert "Live call status is not available for sipgate Neo accounts yet" in shown
    assert "Call id" in shown


def test_a_guided_neo_call_asks_for_the_channel_when_there_are_several(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    neo.channels.append(SimulatedChannel("ch1", "Sales", ("e0",)))
    store(tmp_path).remember(account_type=(TOKEN_ID, "neo"))
    prompter = ScriptedPrompter(["0157 99912345", "Desk phone", "own number", "Sales", True])
    ctx = make_context(neo.url, prompter=prompter, terminal=True, settings_dir=tmp_path)
    run(CallOptions(), ctx)
    assert "Which channel should the call go through?" in prompter.questions
    neo_post = next(r for r in neo.requests if r.path == "/calls")
    assert neo_post.json["channelId"] == "ch1"


def test_a_guided_call_finds_out_the_type_alongside_the_questions_and_remembers_it(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    prompter = ScriptedPrompter(["0157 99912345", "Desk phone", "own number", True])
    ctx = make_context(neo.url, prompter=prompter, terminal=True, settings_dir=tmp_path)
    run(CallOptions(), ctx)
    probed = {r.path for r in neo.requests if r.method == "GET"}
    assert {"/groups", "/w0/phonelines", "/channels"} <= probed
    assert posts(neo) == ["/calls"]  # no classic request: the probes had told
    assert store(tmp_path).load_state().account_type_for(TOKEN_ID) == "neo"


def test_a_forced_type_is_never_probed(simulator: SipgateSimulator, tmp_path: Path) -> None:
    prompter = ScriptedPrompter(["0157 99912345", "Desk phone", "own number", True])
    ctx = forced(
        make_context(simulator.url, prompter=prompter, terminal=True, settings_dir=tmp_path),
        "classic",
    )
    run(CallOptions(), ctx)
    assert not {"/groups", "/w0/phonelines", "/channels"} & {r.path for r in simulator.requests}
    assert posts(simulator) == ["/sessions/calls"]


def test_calls_and_hangup_on_a_known_neo_account_say_what_is_missing(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    from sipgate_tui.commands.calls import CallsOptions, HangupOptions, calls, hangup

    store(tmp_path).remember(account_type=(TOKEN_ID, "neo"))
    with pytest.raises(AppError) as caught:
        calls(CallsOptions(), make_context(neo.url, settings_dir=tmp_path))
    assert caught.value.exit_code == ExitCode.REFUSED
    assert "lists no active calls for sipgate Neo accounts yet" in caught.value.message
    with pytest.raises(AppError) as caught:
        hangup(HangupOptions(call_id="c1"), make_context(neo.url, settings_dir=tmp_path))
    assert caught.value.exit_code == ExitCode.REFUSED
    assert "may not offer hanging up through the API yet (unconfirmed)" in caught.value.message


def test_live_view_on_says_why_it_cannot_start_on_neo(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    store(tmp_path).remember(account_type=(TOKEN_ID, "neo"))
    store(tmp_path).set_value("live_view", "on")
    prompter = ScriptedPrompter(["0157 99912345", "Desk phone", "own number", True])
    ctx = make_context(neo.url, prompter=prompter, terminal=True, settings_dir=tmp_path)
    run(CallOptions(), ctx)
    assert "No live status for this call: sipgate answered GET /calls with HTTP 404" in flat(
        output_of(ctx.out)
    )


def test_devices_on_a_known_neo_account_lists_every_type(
    neo: SipgateSimulator, simulator: SipgateSimulator, tmp_path: Path
) -> None:
    from sipgate_tui.commands.lists import ListOptions, devices

    store(tmp_path).remember(account_type=(TOKEN_ID, "neo"))
    ctx = make_context(neo.url, settings_dir=tmp_path)
    devices(ListOptions(json=True), ctx)
    assert "e2" in {device["id"] for device in json.loads(output_of(ctx.out))}
    classic = make_context(simulator.url, settings_dir=tmp_path / "classic")
    devices(ListOptions(json=True), classic)
    assert all("type" not in r.query for r in simulator.requests)


def test_the_first_guided_call_on_a_fresh_neo_account_already_offers_every_phone(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    # Nothing known yet: the probes run alongside the first question, the phones wait for them.
    prompter = ScriptedPrompter(["0157 99912345", "Desktop app", "own number", True])
    ctx = make_context(neo.url, prompter=prompter, terminal=True, settings_dir=tmp_path)
    run(CallOptions(), ctx)
    assert "Desktop app (e2) · online" in prompter.menus[0]
    assert any("(y0)" in title and "may be refused" in title for title in prompter.menus[0])
    assert posts(neo) == ["/calls"]


def test_picking_the_mobile_on_neo_warns_before_the_dial(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    store(tmp_path).remember(account_type=(TOKEN_ID, "neo"))
    answers = ["0157 99912345", "Mobile", "Pick another phone", "Desk phone", "own number", True]
    prompter = ScriptedPrompter(answers)
    ctx = make_context(neo.url, prompter=prompter, terminal=True, settings_dir=tmp_path)
    run(CallOptions(), ctx)
    assert "Invalid invitable device" in flat(output_of(ctx.out))  # the warning, before asking
    assert next(r for r in neo.requests if r.path == "/calls").json["deviceId"] == "e0"


def test_the_switch_is_said_at_once_in_a_guided_call(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    neo.respond_with(403, b"", path="/channels", times=1)  # the probes tell nothing
    neo.respond_with(404, b"", path="/groups")
    neo.respond_with(404, b"", path="/w0/phonelines")
    prompter = ScriptedPrompter(["0157 99912345", "Desk phone", "own number", True])
    ctx = make_context(neo.url, prompter=prompter, terminal=True, settings_dir=tmp_path)
    run(CallOptions(), ctx)
    shown = flat(output_of(ctx.out))
    assert "This account is sipgate Neo" in shown
    assert shown.index("This account is sipgate Neo") < shown.index("Call accepted")
    assert posts(neo) == ["/sessions/calls", "/calls"]


def test_a_channel_that_does_not_hold_the_phone_is_refused_before_anything_is_sent(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    neo.channels.append(SimulatedChannel("ch1", "Sales", ("e1",)))
    ctx = forced(make_context(neo.url, settings_dir=tmp_path), "neo")
    with pytest.raises(AppError) as caught:
        run(CallOptions(callee="0157 99912345", device="e0", yes=True, channel="CH1"), ctx)
    assert caught.value.code == "unknown-channel"
    assert "does not hold e0" in caught.value.message and "Main = ch0" in caught.value.message
    assert posts(neo) == []


def test_channel_on_a_classic_account_is_said_to_be_unused(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    ctx = forced(make_context(simulator.url, settings_dir=tmp_path), "classic")
    run(ONE_SHOT._replace(channel="ch0"), ctx)
    document = json.loads(output_of(ctx.out))
    assert any("--channel is for sipgate Neo accounts only" in w for w in document["warnings"])


def test_neo_forced_on_a_classic_account_names_the_way_out(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    ctx = forced(make_context(simulator.url, settings_dir=tmp_path), "neo")
    with pytest.raises(AppError) as caught:
        run(ONE_SHOT, ctx)
    assert caught.value.code == "not-found" and caught.value.exit_code == ExitCode.REFUSED
    assert "--account-type auto" in (caught.value.hint or "")
    assert posts(simulator) == ["/calls"]


def test_a_number_format_refusal_on_neo_points_to_the_setting(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    neo.neo_numbers = "plus"
    ctx = forced(make_context(neo.url, settings_dir=tmp_path), "neo")
    with pytest.raises(AppError) as caught:
        run(ONE_SHOT, ctx)
    assert caught.value.code == "bad-request"
    assert "config set neo-numbers plus" in (caught.value.hint or "")
