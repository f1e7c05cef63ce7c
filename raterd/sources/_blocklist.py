"""Blocklists: phishing-domain feeds and the PhishTank dump, imported and looked up.

A rater checks the site's registrable domain against every imported list;
any hit makes the rating X/``negative_info`` whatever else was found, so what
goes into a list matters more than what is left out:

* Every entry (a domain, a URL, a hosts-file line, an adblock ``||domain^``
  rule) is reduced to its registrable domain with
  :func:`protocol.domains.registrable_domain` (``login.evil.example.co.uk``
  and ``http://evil.example.co.uk/x`` both list ``example.co.uk``), because
  that is the unit the cluster rates.
* Entries on domains whose *users* publish the content (free site builders,
  form and file-sharing services, URL shorteners: ``docs.google.com/forms/..``,
  ``bit.ly/..``) are skipped and counted: one user's phishing page must not
  mark google.com. Hosting services in the Public Suffix List's private
  section (``*.github.io``, ``*.blogspot.com``...) need no such care: their
  users' sites are registrable domains of their own.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Sequence
from contextlib import ExitStack
from urllib.parse import urlsplit

from protocol.domains import registrable_domain
from protocol.errors import DomainError
from raterd.findings import Evidence

from ._index import ImportReport, Load, ProgressCallback, SourceIndex
from ._readers import guarded, iter_json_array, open_inputs

__all__ = ["import_blocklist", "import_phishtank", "blocklist_hits", "SHARED_HOSTS", "PHISHTANK"]

PHISHTANK = "phishtank"
_MAX_ENTRY = 1000     # characters of a listed URL kept as evidence
_HITS_PER_LIST = 5    # a dump may list hundreds of URLs on one domain; a few make the point

# Registrable domains that host what their users publish, under one domain
# (see the module docstring). Checked against registrable_domain's output.
SHARED_HOSTS = frozenset({
    # file, form and document sharing
    "google.com", "googleusercontent.com", "forms.gle", "office.com", "live.com", "sharepoint.com",
    "microsoft.com", "outlook.com", "dropbox.com", "box.com", "wetransfer.com", "we.tl",
    "typeform.com", "jotform.com", "wufoo.com", "surveymonkey.com", "formstack.com", "airtable.com",
    "notion.so", "evernote.com", "adobe.com", "canva.com", "figma.com", "github.com", "github.dev",
    "gitlab.com", "codesandbox.io", "stackblitz.io", "ipfs.io", "mypinata.cloud", "fleek.co",
    # site builders and blog hosts whose user sites share the builder's domain
    "weebly.com", "weeblysite.com", "wix.com", "000webhostapp.com", "wordpress.com", "blogger.com",
    "tumblr.com", "livejournal.com", "medium.com", "godaddysites.com", "squarespace.com",
    "mystrikingly.com", "jimdosite.com", "site123.me", "webnode.page", "start.page", "business.site",
    "ukit.me", "zohosites.com", "neocities.org", "tiiny.site", "hubspotpagebuilder.com", "ucoz.net",
    "webcindario.com", "glitch.me", "telegra.ph", "linktr.ee", "b-cdn.net",
    # URL shorteners, click trackers and link wrappers
    "bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "rebrand.ly", "cutt.ly", "is.gd", "lnkd.in",
    "mailchi.mp", "list-manage.com", "sendgrid.net", "hubspotlinks.com", "mandrillapp.com", "rs6.net",
    "mimecastprotect.com", "t.me", "facebook.com", "linkedin.com", "youtube.com",
})

# Leading addresses of hosts-file lines ("0.0.0.0 evil.example").
_HOSTS_PREFIX = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|::1?|[0-9a-f:]+:[0-9a-f:]*)$", re.I)


def _entry_host(entry: str) -> str:
    """The host part of one list token: a domain, a URL or an adblock rule."""
    if entry.startswith("||"):
        entry = entry[2:].split("^", 1)[0]
    if "://" in entry:
        host = urlsplit(entry).hostname or ""
    elif "/" in entry or "?" in entry:
        host = urlsplit("//" + entry).hostname or ""
    else:
        host = entry
    host = host.strip(".").lower()
    if host.startswith("*."):
        host = host[2:]
    return host


class _Listing:
    """Turns list entries into stored rows, counting what it has to skip."""

    def __init__(self, load: Load) -> None:
        self.load = load

    def add(self, entry: str, where: str, note: str = "") -> None:
        host = _entry_host(entry)
        if not host:
            self.load.bad(where, f"no host in {entry[:80]!r}")
            return
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            pass
        else:
            self.load.bad(where, f"IP address {host!r}, not a domain")
            return
        try:
            domain = registrable_domain(host)
        except DomainError as e:
            self.load.bad(where, f"not a registrable domain: {e}")
            return
        if domain in SHARED_HOSTS:
            self.load.bad(where, f"{domain} hosts its users' content; one entry can't list it")
            return
        self.load.add((domain, entry[:_MAX_ENTRY], note))


def import_blocklist(index: SourceIndex, path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
                     name: str, progress: ProgressCallback | None = None) -> ImportReport:
    """Import a plain one-domain-per-line list as list *name*, replacing its previous data.

    Accepted per line: a domain, a URL, a hosts-file line (``0.0.0.0
    evil.example``; several names per line allowed) or an adblock rule
    (``||evil.example^``). ``#`` starts a comment at the start of a line or
    after a blank; blank lines are ignored. Anything else, and entries that
    are not registrable domains or are on :data:`SHARED_HOSTS`, is skipped
    and counted. Gzip/bzip2/zip files are read as they are.
    """
    paths = _as_paths(path)
    with ExitStack() as stack, index._loading(name, "blocklist", "domain-list", paths, progress) as load:
        listing = _Listing(load)
        for number, one in enumerate(paths):
            for inp in open_inputs([one], stack, name):
                load.begin_file(number, inp.position)
                for line_number, line in enumerate(guarded(inp.text, name, inp.label), 1):
                    text = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
                    if not text:
                        continue
                    where = f"{inp.label}:{line_number}"
                    tokens = text.split()
                    if len(tokens) > 1 and _HOSTS_PREFIX.match(tokens[0]):
                        tokens = tokens[1:]
                    elif len(tokens) > 1:
                        load.bad(where, f"more than one entry on the line: {text[:80]!r}")
                        continue
                    for token in tokens:
                        listing.add(token, where)
    return load.report()


def import_phishtank(index: SourceIndex, path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
                     name: str = PHISHTANK, progress: ProgressCallback | None = None) -> ImportReport:
    """Import a PhishTank ``online-valid.json`` dump, replacing the previous one.

    The dump is one JSON array of objects (``phish_id``, ``url``,
    ``phish_detail_url``, ``submission_time``, ``verified``,
    ``verification_time``, ``online``, ``target``, ``details``). It is
    streamed, never loaded whole. Items that are not objects, have no usable
    ``url``, or say ``verified``/``online`` other than "yes" are skipped and
    counted. A truncated or broken file fails the import (old data kept).
    """
    paths = _as_paths(path)
    with ExitStack() as stack, index._loading(name, "blocklist", "phishtank-json", paths, progress) as load:
        listing = _Listing(load)
        for number, one in enumerate(paths):
            for inp in open_inputs([one], stack, name):
                load.begin_file(number, inp.position)
                for item_number, item in enumerate(guarded(iter_json_array(inp, name), name, inp.label), 1):
                    where = f"{inp.label} item {item_number}"
                    if not isinstance(item, dict):
                        load.bad(where, "not a JSON object")
                        continue
                    url = item.get("url")
                    if not isinstance(url, str) or not url.strip():
                        load.bad(where, "no url")
                        continue
                    if not _yes(item.get("verified", "yes")) or not _yes(item.get("online", "yes")):
                        load.bad(where, "not verified or not online")
                        continue
                    note = f"phish_id {str(item.get('phish_id', '?'))[:20]}"
                    target = item.get("target")
                    if isinstance(target, str) and target and target != "Other":
                        note += f", target {target[:60]}"
                    listing.add(url.strip(), where, note)
    return load.report()


def _yes(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("yes", "true", "1"))


def _as_paths(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    if isinstance(path, (str, os.PathLike)):
        return [os.fspath(path)]
    return [os.fspath(p) for p in path]


def blocklist_hits(index: SourceIndex, domain: str) -> list[Evidence]:
    """Evidence for every list that names *domain*'s registrable domain.

    ``Evidence(kind="blocklist", value=<the entry as listed, plus the
    PhishTank id and target when known>, source=<list name, e.g.
    "phishtank">, method="registrable-domain")``; at most a few entries per
    list. A domain that is
    not registrable, or a broken index, gives no hits (see SourceIndex).
    """
    try:
        key = registrable_domain(domain)
    except DomainError:
        return []
    hits = []
    for source, _fmt, (entry, note) in index._lookup("blocklist", key, "entry, note", _HITS_PER_LIST):
        value = f"{entry} ({note})" if note else entry
        hits.append(Evidence(kind="blocklist", value=value, source=source, method="registrable-domain"))
    return hits
