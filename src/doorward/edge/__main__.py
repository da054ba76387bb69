"""``python -m doorward.edge``: the edge daemon without the rest of the CLI's imports.

Same options as ``doorward edge``; meant for small gate computers where memory counts.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from doorward.edge.daemon import run_edge
from doorward.errors import DoorwardError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m doorward.edge", description=__doc__)
    parser.add_argument("--gate", required=True, help="the gate id this edge runs")
    parser.add_argument("--hub", required=True, help="https://hub or mqtt://broker:1883")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--reader", default="sim", help="sim, or osdp:/dev/ttyUSB0")
    parser.add_argument("--site", default=None)
    parser.add_argument("--token", default=os.environ.get("DOORWARD_EDGE_TOKEN", ""))
    args = parser.parse_args(argv)
    try:
        run_edge(
            gate=args.gate,
            hub=args.hub,
            data_dir=args.data_dir,
            reader=args.reader,
            site=args.site,
            token=args.token,
        )
    except DoorwardError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"how to fix: {exc.hint}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
