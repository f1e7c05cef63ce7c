"""Any number of small shops from one loopback HTTP server, keyed by the Host header.

    python -m tests.load.sites --port 8099        # prints "sites listening on 127.0.0.1:8099"

Each shop is one home page (a product with a price and an add-to-cart
button, the business's name in the footer) and nothing else: robots.txt,
sitemap.xml and every other page are 404s. That makes a rating as cheap as a
real rating of a real site can be (one page read, the rules applied), so the
load test measures the cluster rather than the page parser, while every
rating still goes through the whole rater pipeline. Replies are immediate.
"""

from __future__ import annotations

import argparse
import http.server
import sys

__all__ = ["main", "home_page"]

_HOME = ("<!doctype html><html><head><title>{name} - outdoor gear</title></head><body>"
         "<h1>{name}</h1><p>Tents, stoves and rain gear, shipped in two days.</p>"
         "<div class=\"product\">Two-person tent <span class=\"price\">$189.00</span>"
         "<button class=\"add-to-cart\">Add to cart</button></div>"
         "<footer>&copy; 2026 {name} LLC</footer></body></html>")
_NOT_FOUND = b"<html><body>Not found</body></html>"


def home_page(host: str) -> bytes:
    label = host.split(":")[0].split(".")[0]
    name = " ".join(part.capitalize() for part in label.split("-")) or "Shop"
    return _HOME.format(name=name).encode("utf-8")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"       # raters keep connections open between pages

    def log_message(self, fmt, *args):  # noqa: D102 - a line per request would cost more than the reply
        pass

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path.split("?")[0] == "/":
            body, status = home_page(self.headers.get("Host", "shop")), 200
        else:
            body, status = _NOT_FOUND, 404
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="loopback shop sites for the load test")
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # socketserver's default listen backlog is 5: a burst of raters opening
    # pages at once would have SYNs dropped and retried a second later.
    http.server.ThreadingHTTPServer.request_queue_size = 256
    server = http.server.ThreadingHTTPServer((args.bind, args.port), _Handler)
    server.daemon_threads = True
    print(f"sites listening on {args.bind}:{args.port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
