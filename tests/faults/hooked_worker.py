"""``booster worker SERVICE`` with the relay's fault hook armed (tests only).

Usage: python -m tests.faults.hooked_worker SERVICE, with BOOSTER_FAULT_RELAY_TRIGGER
naming a file. While that file does not exist the worker is the platform's own. Once it
exists (holding a number N, or empty for 1), the relay's next batch of at least N events
is published and confirmed, then the process kills itself (SIGKILL) before the batch's
sent marks commit: the file is replaced by ``<trigger>.fired`` holding the batch's event
ids, one a line.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from booster.cli import main
from shared.relay import OutboxRelay


def _crash_if_triggered(trigger: Path) -> None:
    def hook(relay: OutboxRelay, event_ids: list[str]) -> None:
        if not trigger.exists() or len(event_ids) < int(trigger.read_text() or 1):
            return
        fired = trigger.with_name(trigger.name + ".fired")
        fired.write_text("".join(f"{event_id}\n" for event_id in event_ids))
        trigger.unlink()
        os.kill(os.getpid(), signal.SIGKILL)

    OutboxRelay.after_publish = hook


if __name__ == "__main__":
    _crash_if_triggered(Path(os.environ["BOOSTER_FAULT_RELAY_TRIGGER"]))
    main(["worker", *sys.argv[1:]])
