"""Shop sites for the multi-host rig: any host name is a small shop with its contact page.

Run on the rig's "front" host (``python -m tests.multihost.sites --bind ADDR
--port P [--delay S]``); raters reach it through ``--resolve NAME:ADDR`` and
``--http-port P``. ``--delay`` makes every response (robots.txt, home page,
each identity page) take that long, for the capacity benchmark. Each shop is
a US business whose name comes from its host name, so every rating is a
real rating of a distinct site.
"""

from __future__ import annotations

import argparse
import http.server
import sys
import time

__all__ = ["main"]

HOME = """<!doctype html><html><head><title>{name} - outdoor gear</title></head><body>
<nav><a href="/">Home</a> <a href="/cart">Cart</a> <a href="/contact">Contact us</a> <a href="/about">About us</a></nav>
<h1>{name}</h1><p>Tents, stoves and rain gear, shipped in two days.</p>
<div class="product">Two-person tent <span class="price">$189.00</span>
<button class="add-to-cart">Add to cart</button></div>
<footer>&copy; 2026 {name} LLC</footer></body></html>"""

CONTACT = """<!doctype html><html><head><title>Contact {name}</title></head><body>
<h1>Contact us</h1><p>{name} LLC</p>
<address>1420 Fifth Avenue, Suite 300<br>Seattle, WA 98101</address>
<p>Phone: (206) 555-0187</p></body></html>"""

ABOUT = "<!doctype html><html><body><h1>About {name} LLC</h1><p>Family owned since 1994.</p></body></html>"


def shop_name(host: str) -> str:
    label = host.split(":")[0].split(".")[0]
    return " ".join(part.capitalize() for part in label.replace("_", "-").split("-")) or "Shop"


class _Handler(http.server.BaseHTTPRequestHandler):
    delay = 0.0
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # the rig keeps its logs for failures only
        pass

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.delay:
            time.sleep(self.delay)
        name = shop_name(self.headers.get("Host", "shop"))
        path = self.path.split("?")[0]
        pages = {"/": HOME, "/contact": CONTACT, "/about": ABOUT}
        if path == "/robots.txt":
            body, ctype, status = b"User-agent: *\nAllow: /\n", "text/plain", 200
        elif path in pages:
            body, ctype, status = pages[path].format(name=name).encode(), "text/html; charset=utf-8", 200
        else:
            body, ctype, status = b"<html><body>Not found</body></html>", "text/html", 404
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="shop sites for the multi-host rig")
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--delay", type=float, default=0.0)
    args = p.parse_args(argv)
    _Handler.delay = args.delay
    # A backlog for bursts of raters, which connect several pages at once.
    http.server.ThreadingHTTPServer.request_queue_size = 256
    server = http.server.ThreadingHTTPServer((args.bind, args.port), _Handler)
    server.daemon_threads = True
    print(f"sites listening on {args.bind}:{args.port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
