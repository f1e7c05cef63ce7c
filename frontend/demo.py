"""Demo web sites on loopback for ``sitetruth-cluster --demo``.

A new user has no internet-facing rater and may have no internet at all, yet
should see a rating go from W/202 to a final letter. The demo serves a few
small businesses' sites on loopback; the cluster maps only their names to
it (``--resolve NAME:ADDR``: operator-mapped names are trusted by the SSRF
guard, so loopback is fine), and imports a one-company business register
so one site can be verified:

=======================  ======================================  ===========
site                     what it shows                           expected
=======================  ======================================  ===========
acme-widgets.co.uk       shop, name + UK address, in register    A
harbour-books.com        shop, name + US address                 Q unverified
cheap-gadgets-online.com shop, prices and cart, no address       X no_location
quiet-notes.org          a blog, nothing for sale                U non_commercial
=======================  ======================================  ===========

The pages are plain data here (no templates); the server is the standard
library's threaded HTTP server, bound to 127.0.0.1 only.
"""

from __future__ import annotations

import http.server
import threading

__all__ = ["DEMO_SITES", "DEMO_REGISTER_CSV", "DemoSites"]

_SHOP_NAV = ('<nav><a href="/">Home</a> <a href="/products">Products</a> <a href="/cart">Cart</a> '
             '<a href="/contact">Contact us</a> <a href="/about">About us</a></nav>')

DEMO_SITES: dict[str, dict[str, str]] = {
    "acme-widgets.co.uk": {
        "/": f"""<!doctype html><html><head><title>Acme Widgets - quality widgets since 1982</title>
<meta property="og:site_name" content="Acme Widgets"></head><body>{_SHOP_NAV}
<h1>Acme Widgets</h1><p>Hand-made brass widgets, shipped across the UK.</p>
<div class="product"><h2>Brass widget</h2><span class="price">£19.99</span>
<form action="/cart/add" method="post"><button>Add to basket</button></form></div>
<footer>&copy; 2026 Acme Widgets Ltd. All rights reserved.</footer></body></html>""",
        "/contact": f"""<!doctype html><html><head><title>Contact us - Acme Widgets</title></head><body>{_SHOP_NAV}
<h1>Contact us</h1><address>Acme Widgets Ltd<br>10 Canal Street<br>Hebden Bridge<br>HX7 8AB<br>United Kingdom</address>
<p>Telephone: +44 1422 845 000</p>
<p>Registered in England and Wales, company number 01234567.</p>
<footer>&copy; 2026 Acme Widgets Ltd.</footer></body></html>""",
        "/about": "<html><body><h1>About Acme Widgets Ltd</h1><p>A family firm.</p></body></html>",
    },
    "harbour-books.com": {
        "/": f"""<!doctype html><html><head><title>Harbour Books</title></head><body>{_SHOP_NAV}
<h1>Harbour Books</h1><p>New and used books.</p>
<div class="product">The Sea Around Us <span class="price">$14.50</span>
<button class="add-to-cart">Add to cart</button></div>
<footer>&copy; 2026 Harbour Books LLC</footer></body></html>""",
        "/contact": f"""<html><head><title>Contact Harbour Books</title></head><body>{_SHOP_NAV}
<h1>Visit us</h1><p>Harbour Books LLC</p><address>221 Water Street<br>Portland, ME 04101</address>
<p>Call (207) 555-0143</p></body></html>""",
    },
    "cheap-gadgets-online.com": {
        "/": f"""<!doctype html><html><head><title>CHEAP GADGETS - best prices</title></head><body>{_SHOP_NAV}
<h1>Mega sale!</h1><div class="product">Smart watch <span class="price">$9.99</span>
<button class="add-to-cart">Add to cart</button></div>
<div class="product">Earbuds <span class="price">$4.99</span></div>
<a href="/checkout">Checkout</a></body></html>""",
        "/contact": "<html><body><h1>Contact</h1><p>Use the form below.</p><form><textarea></textarea></form></body></html>",
    },
    "quiet-notes.org": {
        "/": """<!doctype html><html><head><title>Quiet notes</title></head><body>
<h1>Quiet notes</h1><article><h2>On walking</h2><p>Some thoughts about long walks in the rain.</p></article>
<a href="/about">About this blog</a></body></html>""",
        "/about": "<html><body><h1>About</h1><p>A personal blog about walking.</p></body></html>",
    },
}

# A Companies House "BasicCompanyData" extract with the one demo company, in
# the published column layout (leading spaces in some header names included).
DEMO_REGISTER_CSV = (
    'CompanyName, CompanyNumber,RegAddress.CareOf,RegAddress.POBox,RegAddress.AddressLine1, '
    'RegAddress.AddressLine2,RegAddress.PostTown,RegAddress.County,RegAddress.Country,RegAddress.PostCode,'
    'CompanyCategory,CompanyStatus,CountryOfOrigin,DissolutionDate,IncorporationDate\n'
    '"ACME WIDGETS LIMITED","01234567","","","10 CANAL STREET","","HEBDEN BRIDGE","WEST YORKSHIRE",'
    '"UNITED KINGDOM","HX7 8AB","Private Limited Company","Active","United Kingdom","","01/03/1982"\n'
)


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "SiteTruthDemo/1"

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        host = (self.headers.get("Host") or "").split(":")[0].lower().removeprefix("www.")
        site = DEMO_SITES.get(host)
        path = self.path.split("?")[0]
        if path == "/robots.txt":
            self._send(200, "text/plain", "User-agent: *\nAllow: /\n")
        elif site is None or path not in site:
            self._send(404, "text/html", "<html><body><h1>Not found</h1></body></html>")
        else:
            self._send(200, "text/html; charset=utf-8", site[path])

    def _send(self, status: int, ctype: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:  # quiet: the cluster prints its own lines
        pass


class DemoSites:
    """The demo sites on ``address``:``port`` (a loopback address; port 0 = any free port), in a daemon thread.

    Binding happens here, so a port that is taken or privileged raises OSError
    before anything runs.
    """

    def __init__(self, port: int = 0, address: str = "127.0.0.1") -> None:
        self.server = http.server.ThreadingHTTPServer((address, port), _Handler)
        self.server.daemon_threads = True
        self.address = address
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="demo-sites", daemon=True)

    def start(self) -> DemoSites:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()
