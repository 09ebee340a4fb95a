"""``honcho start`` with a longer grace period: what ``make up`` runs.

On Ctrl-C (or SIGTERM) honcho sends SIGTERM to every process and, once the first has
exited, gives the others ``honcho.manager.KILL_WAIT`` seconds (5 in honcho 2.0, with no
option to change it) before SIGKILL. A worker finishes the batch in hand and a gunicorn
master waits for its requests; on a busy machine that takes longer than 5 s, so here
they get as long as docker-compose.yml gives them (stop_grace_period).
"""

from __future__ import annotations

import sys

import honcho.command
import honcho.manager

GRACE_SECONDS = 30

if not hasattr(honcho.manager, "KILL_WAIT"):  # a honcho without it: look again
    raise SystemExit("honcho.manager.KILL_WAIT is gone: check scripts/honcho_start.py")
honcho.manager.KILL_WAIT = GRACE_SECONDS
sys.argv[0] = "honcho"
honcho.command.main()
