"""vaekit explore RUN_DIR [--port P] [--host H]: a local web page to explore a run's latent space."""

from __future__ import annotations

import argparse
import sys

from vaekit.cli.common import int_in

LOCAL = ("127.0.0.1", "localhost", "::1")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "explore",
        help="a local web app for one run: latent sliders, a map of the test set, interpolation, your own images, "
        "a VQ-VAE's code grid",
    )
    p.add_argument("run_dir", help="the run directory (written by `vaekit train`)")
    p.add_argument("--port", type=int_in(1, 65535), default=8765, help="port to listen on")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind; 127.0.0.1 is this machine only, any other is served with a warning: anyone who "
        "can reach it can use the page",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from vaekit.explore import create_app
    from vaekit.run import load_run

    if args.host not in LOCAL:
        print(
            f"vaekit explore: warning: serving on {args.host}, not only this machine: anyone who can reach "
            f"{args.host}:{args.port} can use the explorer (it reads no files from requests, but costs CPU).",
            file=sys.stderr,
        )
    r = load_run(args.run_dir)
    print("vaekit explore: encoding the test set ...", file=sys.stderr)
    app = create_app(r)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"vaekit explore: open http://{host}:{args.port}/  (Ctrl-C stops)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
