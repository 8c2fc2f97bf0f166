"""`python -m sandbox`: run the local Telegram on its own and print where it listens."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from sandbox.server import Sandbox


async def _serve(args: argparse.Namespace) -> None:
    sb = Sandbox(args.spec, token=args.token, host=args.host, port=args.port)
    await sb.start()
    print(f"Local Telegram at {sb.url}", flush=True)
    print(f"Bot API base_url: {sb.base_url}  base_file_url: {sb.base_file_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sb.stop()


def main() -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:SANDBOX-TOKEN")
    parser.add_argument("--spec", type=Path, default=None, help="path to api.json")
    args = parser.parse_args()
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
