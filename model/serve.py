"""`arabic-topics serve`: the model over HTTP (model/api.py) with uvicorn, and a page at /.

    arabic-topics serve                                  # the shipped model on http://127.0.0.1:8000
    arabic-topics serve --model runs/mine --host 0.0.0.0 --port 9000

The model is loaded once, before the address is printed; the socket is bound before loading, so a port in
use is reported at once, in one line. --port 0 takes a free port (the printed address names it).
"""
from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from .backends import BACKENDS
from .errors import UserError
from .limits import Limits

EXTRA = 'pip install -e ".[serve]"'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = Limits()
    parser.add_argument("--model", help="model directory (default: the shipped model, or $ARABIC_TOPICS_MODEL)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 "
                        "for every interface)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    parser.add_argument("--backend", choices=BACKENDS, help="how the encoder runs (default: the model's own)")
    parser.add_argument("--max-batch", type=int, default=defaults.max_batch,
                        help=f"texts per forward pass, gathered from concurrent requests (default {defaults.max_batch})")
    parser.add_argument("--max-wait-ms", type=float, default=defaults.max_wait_ms, help="how long a pass waits "
                        f"for more requests after the first (default {defaults.max_wait_ms:g})")
    parser.add_argument("--max-texts", type=int, default=defaults.max_texts,
                        help=f"texts per request (default {defaults.max_texts})")
    parser.add_argument("--max-body", type=int, default=defaults.max_body,
                        help=f"bytes per request body; larger ones get 413 (default {defaults.max_body})")
    parser.add_argument("--access-log", action="store_true", help="log one line per request")


def bind(host: str, port: int) -> socket.socket:
    """A bound socket for host:port (IPv4 or IPv6), or a one-line error."""
    if not 0 <= port <= 65535:
        raise UserError(f"--port {port}: not a port (0 to 65535)")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise UserError(f"--host {host}: not an address of this machine ({exc.strerror})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart may rebind while old sockets linger
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from .api import create_app
    except ImportError as exc:
        raise UserError(f"serve needs the serve extra ({exc.name} is missing): {EXTRA}") from None
    from . import default_model_dir
    from .classifier import TopicClassifier

    limits = Limits(max_texts=args.max_texts, max_body=args.max_body, max_batch=args.max_batch,
                    max_wait_ms=args.max_wait_ms).check()
    sock = bind(args.host, args.port)
    try:
        model_dir = Path(args.model) if args.model else default_model_dir()
        classifier = TopicClassifier.from_pretrained(model_dir, backend=args.backend)
        classifier.companions()  # loaded before serving, not inside the first request that needs one
        app = create_app(classifier, str(model_dir), limits)
        config = uvicorn.Config(app, log_level="info" if args.access_log else "warning", access_log=args.access_log,
                                timeout_graceful_shutdown=10)
        sock.listen(2048)  # listening from now on: a client that reads the address below may connect at once
        where = address(sock)
        # The first line ends with the address (eval/serve_benchmark.py and the tests read it there).
        print(f"serving {model_dir} ({classifier.backend}; labels {', '.join(classifier.labels)}) at {where}\n"
              f"  page {where}/  API POST {where}/predict  docs {where}/docs  (Ctrl-C stops)", flush=True)
        try:
            uvicorn.Server(config).run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn shuts down gracefully on Ctrl-C, then raises it again: a normal stop
            pass
    finally:
        sock.close()
    print("stopped", file=sys.stderr)
    return 0
