"""A SPOT analyzer worker (nlp, llm, or their mocks in test).

It logs its APP_ENV and LOG_LEVEL at start, then stays up, touching a heartbeat file
that the Compose healthcheck reads. SIGTERM ends it at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import pathlib
import signal
import sys
import time

HEARTBEAT = pathlib.Path("/tmp/heartbeat")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", help="what this worker analyzes, e.g. nlp or llm")
    parser.add_argument("--mock", action="store_true", help="answer canned results (test)")
    parser.add_argument("--interval", type=float, default=2.0)
    args = parser.parse_args(argv)

    level = os.environ.get("LOG_LEVEL", "INFO")
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    name = f"analyzer-{'mock-' if args.mock else ''}{args.kind}"
    log = logging.getLogger(name)
    # Printed whatever the level, so `reconcile logs` always shows the environment.
    print(f"{name} started: APP_ENV={os.environ.get('APP_ENV', '')} LOG_LEVEL={level}", flush=True)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        HEARTBEAT.touch()
        log.debug("heartbeat")
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
