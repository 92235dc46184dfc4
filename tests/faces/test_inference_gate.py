"""The inference gate: no more analyses at once than slots, a kiosk frame before others, and
nobody starved."""

from __future__ import annotations

import threading
import time

from tests.polling import wait_until
from visage.faces.inference.scheduling import SLACK_SECONDS, InferenceGate, Priority


def _order_of_two_waiting(
    holder: Priority, first: tuple[str, Priority], second: tuple[str, Priority], pause: float = 0
) -> list[str]:
    """With the one slot held at `holder`'s priority, `first` starts waiting, `pause` seconds
    later `second` does; the slot is freed: the order in which the two then ran."""
    gate = InferenceGate(1)
    order: list[str] = []
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with gate.slot(holder):
            held.set()
            release.wait(5)

    def run(name: str, priority: Priority) -> None:
        with gate.slot(priority):
            order.append(name)

    holding = threading.Thread(target=hold)
    holding.start()
    assert held.wait(5)
    earlier = threading.Thread(target=run, args=first)
    earlier.start()
    wait_until(lambda: gate.waiting == 1, seconds=5, step=0.001, what="the first to wait")
    time.sleep(pause)
    later = threading.Thread(target=run, args=second)
    later.start()
    wait_until(lambda: gate.waiting == 2, seconds=5, step=0.001, what="the second to wait")
    release.set()
    for thread in (holding, earlier, later):
        thread.join(5)
    return order


def test_a_waiting_kiosk_frame_runs_before_earlier_background_work() -> None:
    order = _order_of_two_waiting(
        Priority.INTERACTIVE, ("background", Priority.BACKGROUND), ("kiosk", Priority.KIOSK)
    )
    assert order == ["kiosk", "background"]


def test_no_more_run_at_once_than_slots_and_all_run() -> None:
    gate = InferenceGate(2)
    running = 0
    most = 0
    done = 0
    lock = threading.Lock()

    def run() -> None:
        nonlocal running, most, done
        with gate.slot(Priority.KIOSK):
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.01)
            with lock:
                running -= 1
                done += 1

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert done == 8
    assert most == 2


def test_a_search_waiting_longer_than_its_slack_goes_before_later_kiosk_frames() -> None:
    order = _order_of_two_waiting(
        Priority.KIOSK,
        ("search", Priority.INTERACTIVE),
        ("kiosk", Priority.KIOSK),
        pause=SLACK_SECONDS[Priority.INTERACTIVE] + 0.1,
    )
    assert order == ["search", "kiosk"]
