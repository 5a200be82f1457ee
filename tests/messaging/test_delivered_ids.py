"""A socket passes each event on once, and what it remembers for that stays small."""

from __future__ import annotations

from messaging.consumers import DELIVERED_MEMORY, RECENT_DELIVERED, HubConsumer


def socket_at(mark: int | None) -> HubConsumer:
    socket = HubConsumer()
    socket.delivered = {}
    socket.newest_seen = mark
    return socket


def deliver(socket: HubConsumer, ids: range) -> list[bool]:
    return [socket.first_delivery(event_id) for event_id in ids]


def test_an_event_arriving_through_a_second_group_is_not_passed_on_again() -> None:
    socket = socket_at(0)
    assert socket.first_delivery(7)
    assert not socket.first_delivery(7)


def test_ids_at_or_below_the_mark_are_forgotten_but_the_newest_few() -> None:
    socket = socket_at(10_000)
    assert all(deliver(socket, range(1, 5001)))
    assert len(socket.delivered) == RECENT_DELIVERED
    assert not socket.first_delivery(5000)
    assert not socket.first_delivery(5001 - RECENT_DELIVERED)


def test_ids_above_the_mark_are_kept_for_the_gap_repair_up_to_the_cap() -> None:
    socket = socket_at(None)  # before the hello: the mark stands still
    assert all(deliver(socket, range(1, DELIVERED_MEMORY + 1)))
    assert len(socket.delivered) == DELIVERED_MEMORY
    assert not any(deliver(socket, range(1, DELIVERED_MEMORY + 1)))
    assert socket.first_delivery(DELIVERED_MEMORY + 1)
    assert len(socket.delivered) == DELIVERED_MEMORY


def test_a_moving_mark_lets_the_memory_shrink_at_the_next_delivery() -> None:
    socket = socket_at(0)
    deliver(socket, range(1, 1001))
    assert len(socket.delivered) == 1000
    socket.newest_seen = 1000
    assert socket.first_delivery(1001)
    assert len(socket.delivered) == RECENT_DELIVERED
    assert not socket.first_delivery(1001)
