"""The keypad's own debouncing, driven with timestamps (gpiozero's mock factory ignores bounce_time)."""

from __future__ import annotations

from counter.debounce import LONG, SHORT, Debouncer


def feed(d: Debouncer, edges: list[tuple[float, bool]], until: float, step: float = 0.001) -> list[tuple[float, str]]:
    """Edges at their times, polling every millisecond as the button thread would."""
    out, pending, t = [], sorted(edges), 0.0
    while t <= until:
        while pending and pending[0][0] <= t:
            at, level = pending.pop(0)
            d.edge(level, at)
        out += [(round(t, 3), kind) for kind in d.poll(t)]
        t += step
    return out


def chatter(start: float, level: bool, bounces: int = 5, gap: float = 0.002) -> list[tuple[float, bool]]:
    """A switch closing (or opening): it flips `bounces` times, 2 ms apart, before it settles on `level`."""
    return [(start + i * gap, level if i % 2 == 0 else not level) for i in range(bounces * 2 + 1)]


def test_a_bouncing_press_is_one_press():
    d = Debouncer(debounce=0.03)
    presses = feed(d, chatter(0.100, True) + chatter(0.400, False), until=1.0)
    assert [kind for _, kind in presses] == [SHORT]
    assert 0.13 <= presses[0][0] <= 0.16  # 30 ms after the last bounce, not at the first contact


def test_a_glitch_shorter_than_the_debounce_time_is_no_press():
    d = Debouncer(debounce=0.03)
    assert feed(d, [(0.1, True), (0.115, False)], until=0.5) == []


def test_a_button_without_a_second_function_acts_at_the_press():
    d = Debouncer(debounce=0.03)
    presses = feed(d, [(0.1, True)], until=2.0)  # held for ever: still one press, at once
    assert presses == [(0.13, SHORT)]


def test_a_button_with_a_second_function_tells_a_tap_from_a_hold():
    tap = Debouncer(debounce=0.03, hold=1.5)
    assert [k for _, k in feed(tap, chatter(0.1, True) + chatter(0.5, False), until=3.0)] == [SHORT]
    held = Debouncer(debounce=0.03, hold=1.5)
    events = feed(held, chatter(0.1, True) + chatter(2.5, False), until=3.0)
    assert [k for _, k in events] == [LONG]  # the release after a hold reports nothing more
    assert 1.6 <= events[0][0] <= 1.65  # at the hold time from the settled press, while still held


def test_the_next_deadline_says_when_to_look_again():
    d = Debouncer(debounce=0.03, hold=1.0)
    assert d.next_deadline() is None
    d.edge(True, 10.0)
    assert d.next_deadline() == 10.03
    assert d.poll(10.03) == []
    assert d.next_deadline() == 11.0
    assert d.poll(11.0) == [LONG]
    assert d.next_deadline() is None


def test_two_quick_taps_are_two_presses():
    d = Debouncer(debounce=0.03)
    edges = chatter(0.1, True) + chatter(0.2, False) + chatter(0.3, True) + chatter(0.4, False)
    assert [k for _, k in feed(d, edges, until=1.0)] == [SHORT, SHORT]


def test_a_press_counts_even_when_the_poll_comes_late():
    """A busy box may poll after the finger has left: the edges' own times decide."""
    tap = Debouncer(debounce=0.03)
    tap.edge(True, 0.100)
    tap.edge(False, 0.180)  # 80 ms pressed, and nobody looked in between
    assert tap.poll(0.500) == [SHORT]
    held = Debouncer(debounce=0.03, hold=1.5)
    held.edge(True, 0.1)
    held.edge(False, 2.0)
    assert held.poll(3.0) == [LONG]
    glitch = Debouncer(debounce=0.03, hold=1.5)
    glitch.edge(True, 0.1)
    glitch.edge(False, 0.11)  # 10 ms: a bounce, polled late or not
    assert glitch.poll(1.0) == []
