"""A real edge process for the kill -9 test: presents cards as fast as it can.

After each presentation returns (the gate has been told "done"), it prints the event id.
The test kills it with SIGKILL mid-burst and checks every printed id is in the outbox.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.edge.conftest import CARD, Gate, Site

from doorward.domain.model import CardData
from doorward.edge.readers import ReaderInput


def main() -> None:
    data_dir = Path(sys.argv[1])
    site = Site()
    gate = Gate(site, data_dir)
    gate.controller.start()
    gate.controller.apply_snapshot(site.full_snapshot())
    print("ready", flush=True)
    number = 0
    while True:
        number += 1
        card = CardData(CARD[0], CARD[1] if number % 2 else str(number))
        handled = gate.controller.handle_input(ReaderInput("r1", "card", card=card))
        print(handled.event.event_id, handled.event.edge_seq, flush=True)


if __name__ == "__main__":
    main()
