"""The channels of a sipgate Neo account (``GET /channels``, scope ``channels:read``).

On Neo a call is placed "in" a channel: ``POST /calls`` takes the ``channelId`` of the channel
that holds the chosen phone (without it sipgate picks the device's default channel, and a
third-party client reports "API says success, phone does not ring"). The answer's shape comes
from third-party clients (sipgate-api.md, "sipgate Neo accounts"): ``{items: [{id, name,
owner, users: [{id: "w0", deviceIds: ["e0", ...]}], ...}]}``. It is read defensively.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sipgate_tui.text import one_line

if TYPE_CHECKING:
    from sipgate_tui.api import SipgateClient

MAX_PAGES = 50  # a server that never stops paging must not keep us forever
PAGE_SIZE = 100


@dataclass(frozen=True)
class Channel:
    """A channel as ``GET /channels`` lists it: ``device_ids`` are the user's own devices in
    it (of the ``users`` entry whose id is the user id); ``raw`` keeps the API's object."""

    id: str
    name: str
    device_ids: tuple[str, ...]
    raw: dict[str, Any]


def list_channels(client: SipgateClient, user_id: str) -> list[Channel]:
    """Every channel of the account, with the devices ``user_id`` has in each.

    Follows pages only when the answer says there are more: a ``totalCount`` beyond what was
    read (then ``offset``/``limit``), or a ``position`` cursor (then ``position``). Stops at a
    page that adds no new channel, and after MAX_PAGES.
    """
    channels: dict[str, Channel] = {}
    params: dict[str, str | int] | None = None
    for _ in range(MAX_PAGES):
        data = client.get_json("/channels", params)
        found = parse_channels(data, user_id)
        added = [channel for channel in found if channel.id not in channels]
        channels.update((channel.id, channel) for channel in added)
        params = _next_page(data, len(channels), params)
        if not added or params is None:
            break
    return list(channels.values())


def _next_page(
    data: Any, read: int, sent: dict[str, str | int] | None
) -> dict[str, str | int] | None:
    """The query of the next page, or None when the answer announces no more."""
    if not isinstance(data, dict):
        return None
    total = data.get("totalCount")
    if isinstance(total, int) and not isinstance(total, bool) and read < total:
        return {"offset": read, "limit": PAGE_SIZE}
    position = data.get("position")
    if isinstance(position, str) and position and (sent or {}).get("position") != position:
        return {"position": position}
    return None


def parse_channels(data: Any, user_id: str) -> list[Channel]:
    """The channels of one ``GET /channels`` answer; entries without a usable id are skipped."""
    items = data.get("items") if isinstance(data, dict) else None
    channels = []
    for item in items if isinstance(items, list) else []:
        raw_id = item.get("id") if isinstance(item, dict) else None
        channel_id = one_line(raw_id, 200) if isinstance(raw_id, str) else ""
        if not channel_id:
            continue
        name = item.get("name")
        channels.append(
            Channel(
                id=channel_id,
                name=one_line(name, 80) if isinstance(name, str) and name.strip() else channel_id,
                device_ids=_devices_of_user(item.get("users"), user_id),
                raw=item,
            )
        )
    return channels


def _devices_of_user(users: Any, user_id: str) -> tuple[str, ...]:
    """The ``deviceIds`` of the ``users`` entry whose id is ``user_id`` (cleaned, in order)."""
    devices: list[str] = []
    for user in users if isinstance(users, list) else []:
        if not isinstance(user, dict) or user.get("id") != user_id:
            continue
        ids = user.get("deviceIds")
        for device_id in ids if isinstance(ids, list) else []:
            cleaned = one_line(device_id, 80) if isinstance(device_id, str) else ""
            if cleaned and cleaned not in devices:
                devices.append(cleaned)
    return tuple(devices)


def channels_of_device(channels: list[Channel], device_id: str) -> list[Channel]:
    """The channels that hold ``device_id`` for the user, in the order listed."""
    return [channel for channel in channels if device_id in channel.device_ids]
