"""The remote GLEIF-format lookup against a loopback server speaking the API's JSON:API."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3

from raterd.sources import (
    GleifClient,
    LeiRecord,
    SourceFormatError,
    SourceUnavailable,
    make_gleif_client,
)


def _record(lei, name, postcode, country="GB", city="London", status="ACTIVE", registration="ISSUED",
            registered_as="", other_names=(), hq_postcode=None):
    address = {"language": "en", "addressLines": ["1 High Street"], "addressNumber": None,
               "addressNumberWithinBuilding": None, "mailRouting": None, "city": city, "region": None,
               "country": country, "postalCode": postcode}
    return {
        "type": "lei-records",
        "id": lei,
        "attributes": {
            "lei": lei,
            "entity": {
                "legalName": {"name": name, "language": "en"},
                "otherNames": [{"name": n, "language": "en", "type": t} for n, t in other_names],
                "transliteratedOtherNames": [],
                "legalAddress": address,
                "headquartersAddress": dict(address, postalCode=hq_postcode or postcode),
                "registeredAt": {"id": "RA000585", "other": None},
                "registeredAs": registered_as,
                "jurisdiction": country,
                "category": "GENERAL",
                "legalForm": {"id": "H0PO", "other": None},
                "status": status,
            },
            "registration": {"initialRegistrationDate": "2015-03-04T10:00:00Z",
                             "lastUpdateDate": "2024-03-04T10:00:00Z", "status": registration,
                             "nextRenewalDate": "2025-03-04T10:00:00Z", "managingLou": "213800WAVVOPS85N2205",
                             "corroborationLevel": "FULLY_CORROBORATED"},
            "bic": None,
        },
        "relationships": {},
        "links": {"self": f"https://api.gleif.org/api/v1/lei-records/{lei}"},
    }


RECORDS = [
    _record("213800ACMEWIDGET0166", "ACME WIDGETS LIMITED", "SW1A 1AA", registered_as="01234567",
            other_names=[("Acme Online", "TRADING_OR_OPERATING_NAME"), ("Acme Gadgets Limited", "PREVIOUS_LEGAL_NAME")]),
    _record("213800ACMEWIDGETN194", "ACME WIDGETS NORTH LIMITED", "LS1 4AP", city="Leeds"),
    _record("213800LAPSEDHOLDI391", "LAPSED HOLDINGS PLC", "EC1A 4JA", registration="LAPSED"),
    _record("549300GONEAWAYINC482", "GONE AWAY INC.", "10118", country="US", status="INACTIVE",
            registration="RETIRED"),
    _record("549300EXAMPLECORP572", "Example Corp", "19801-1234", country="US", hq_postcode="94105"),
]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    mode = "normal"
    release: threading.Event
    queries: list


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.queries.append((url.path, query))
        mode = self.server.mode
        if mode == "slow":
            self.server.release.wait(10)      # far past any client timeout
        if mode == "error":
            return self._send(500, b'{"errors": [{"status": "500", "title": "Internal Server Error"}]}')
        if mode == "garbage":
            return self._send(200, b"<html>this is not JSON {")
        if mode == "wrong-shape":
            return self._send(200, json.dumps({"errors": [{"title": "Bad filter"}]}).encode())
        if url.path != "/api/v1/lei-records":
            return self._send(404, b'{"errors": [{"status": "404"}]}')
        prefix = query.get("filter[entity.legalName]", "").casefold()
        country = query.get("filter[entity.legalAddress.country]")
        size = int(query.get("page[size]", "10"))
        data = [r for r in RECORDS
                if r["attributes"]["entity"]["legalName"]["name"].casefold().startswith(prefix)
                and (country is None or r["attributes"]["entity"]["legalAddress"]["country"] == country)]
        body = json.dumps({"meta": {"goldenCopy": {"publishDate": "2024-05-01T08:00:00Z"},
                                    "pagination": {"currentPage": 1, "perPage": size, "from": 1,
                                                   "to": len(data[:size]), "total": len(data), "lastPage": 1}},
                           "links": {"first": "...", "last": "..."},
                           "data": data[:size]}).encode()
        if mode == "trickle":
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.api+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for byte in body:
                if self.server.release.wait(0.1):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            return
        return self._send(200, body)

    def _send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.api+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.queries = []
    srv.release = threading.Event()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


@pytest.fixture
def client(server):
    host, port = server.server_address
    return GleifClient(f"http://{host}:{port}/api/v1", timeout=2.0)


def test_search_parses_the_json_api_records(client, server):
    records = client.search("Acme Widgets", country="GB", limit=5)
    assert [r.lei for r in records] == ["213800ACMEWIDGET0166", "213800ACMEWIDGETN194"]
    acme = records[0]
    assert isinstance(acme, LeiRecord)
    assert acme.legal_name == "ACME WIDGETS LIMITED" and acme.language == "en"
    assert acme.other_names == ("Acme Online",)                   # not the previous legal name
    assert (acme.postcode, acme.country, acme.city) == ("SW1A 1AA", "GB", "London")
    assert acme.registered_as == "01234567" and acme.live
    path, query = server.queries[-1]
    assert path == "/api/v1/lei-records"
    assert query == {"filter[entity.legalName]": "Acme Widgets",
                     "filter[entity.legalAddress.country]": "GB", "page[size]": "5"}


def test_confirm_name_and_postcode(client, server):
    [found] = client.confirm("Acme Widgets Ltd.", "sw1a 1aa", "United Kingdom")
    assert found.source == "gleif-api" and found.strength == "strong"
    assert found.matched_name == "ACME WIDGETS LIMITED"
    assert "213800ACMEWIDGET0166" in found.detail and "postcode" in found.detail
    # The API's legalName filter is a prefix match: the legal form is not sent.
    assert server.queries[-1][1]["filter[entity.legalName]"] == "Acme Widgets"
    assert client.last_error is None


def test_confirm_by_registration_number_or_headquarters(client):
    assert client.confirm("Acme Widgets Limited", None, "GB", registration="1234567")
    assert client.confirm("Example Corp", "94105", "US")
    assert client.confirm("Example Corp", "19801", "US")


def test_no_confirmation_without_the_rule(client):
    assert client.confirm("Acme Widgets Ltd", "M1 1AE", "GB") == []        # wrong postcode
    assert client.confirm("Acme Widgets Ltd", None, "GB") == []            # name only
    assert client.confirm("Nobody Known Ltd", "SW1A 1AA", "GB") == []      # no such record
    assert client.confirm("Lapsed Holdings PLC", "EC1A 4JA", "GB") == []   # LAPSED
    assert client.confirm("Gone Away Inc", "10118", "US") == []            # INACTIVE
    assert client.confirm("Acme Widgets Ltd", "SW1A 1AA", "DE") == []      # other country
    assert client.last_error is None                                        # none of that is an error


def test_slow_server_costs_only_the_timeout(server, caplog):
    server.mode = "slow"
    host, port = server.server_address
    client = GleifClient(f"http://{host}:{port}/api/v1", timeout=0.5)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="raterd.sources"):
        assert client.confirm("Acme Widgets Ltd", "SW1A 1AA", "GB") == []
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"confirm took {elapsed:.1f} s with a 0.5 s timeout"
    assert isinstance(client.last_error, SourceUnavailable)
    assert "GLEIF lookup failed" in caplog.text


def test_trickling_answer_is_cut_at_the_total_limit(server):
    # Each byte arrives well within a per-read timeout; only a total deadline stops it.
    server.mode = "trickle"
    host, port = server.server_address
    client = GleifClient(f"http://{host}:{port}/api/v1", timeout=0.8)
    started = time.monotonic()
    assert client.confirm("Acme Widgets Ltd", "SW1A 1AA", "GB") == []
    assert time.monotonic() - started < 2.5
    assert isinstance(client.last_error, SourceUnavailable)
    assert "time limit" in str(client.last_error)


def test_garbage_json_gives_nothing_and_an_error(client, server, caplog):
    server.mode = "garbage"
    with caplog.at_level(logging.WARNING, logger="raterd.sources"):
        assert client.confirm("Acme Widgets Ltd", "SW1A 1AA", "GB") == []
    assert isinstance(client.last_error, SourceFormatError)
    assert "not JSON" in caplog.text
    with pytest.raises(SourceFormatError):
        client.search("Acme")                     # search itself does raise


def test_a_source_that_stays_down_warns_once_a_minute(client, server, caplog):
    server.mode = "error"
    with caplog.at_level(logging.DEBUG, logger="raterd.sources"):
        for _ in range(3):
            assert client.confirm("Acme Widgets Ltd", "SW1A 1AA", "GB") == []
    failures = [r for r in caplog.records if "GLEIF lookup failed" in r.getMessage()]
    assert [r.levelno for r in failures] == [logging.WARNING, logging.DEBUG, logging.DEBUG]
    assert len(client.errors) == 3


def test_json_that_is_not_a_json_api_document(client, server):
    server.mode = "wrong-shape"
    assert client.confirm("Acme Widgets Ltd", "SW1A 1AA", "GB") == []
    assert isinstance(client.last_error, SourceFormatError)


def test_http_error_status(client, server):
    server.mode = "error"
    assert client.confirm("Acme Widgets Ltd", "SW1A 1AA", "GB") == []
    assert isinstance(client.last_error, SourceUnavailable)
    assert "HTTP 500" in str(client.last_error)
    server.mode = "normal"                        # and the client recovers
    assert client.confirm("Acme Widgets Ltd", "SW1A 1AA", "GB")


def test_connection_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]                 # closed again before use: nothing listens
    client = GleifClient(f"http://127.0.0.1:{port}/api/v1", timeout=1.0)
    assert client.confirm("Acme Widgets Ltd", "SW1A 1AA", "GB") == []
    assert isinstance(client.last_error, SourceUnavailable)
    assert len(client.errors) == 1


def test_a_shared_pool_is_used(server):
    host, port = server.server_address
    pool = urllib3.PoolManager()
    client = GleifClient(f"http://{host}:{port}/api/v1", timeout=2.0, pool=pool)
    assert client.confirm("Acme Widgets Ltd", "SW1A 1AA", "GB")
    assert client.confirm("Example Corp", "19801", "US")
    assert len(pool.pools) == 1                   # both requests went through the caller's pool


def test_configuration(monkeypatch):
    monkeypatch.delenv("SITETRUTH_GLEIF_URL", raising=False)
    assert make_gleif_client().base_url == "https://api.gleif.org/api/v1"
    assert make_gleif_client("") is None
    monkeypatch.setenv("SITETRUTH_GLEIF_URL", "http://127.0.0.1:9/api/v1/")
    assert make_gleif_client().base_url == "http://127.0.0.1:9/api/v1"
    monkeypatch.setenv("SITETRUTH_GLEIF_URL", "")
    assert make_gleif_client() is None
    with pytest.raises(ValueError):
        GleifClient("file:///etc/passwd")
    with pytest.raises(ValueError):
        GleifClient("http://127.0.0.1:9", timeout=0)
