"""The static files of the pages (``/static/...``): one stylesheet and the status page's script.

Kept as strings in a module rather than package data so an install can never
lose them. The script only reads ``status.json`` and writes text nodes
(``textContent``) and elements it creates itself, never HTML, so nothing in
the data can inject markup. It shows values the way the ``status.html``
template does (``2 h 14 min``, ``12 / min``, coloured letters), so the page
looks the same before and after a refresh.
"""

from __future__ import annotations

__all__ = ["ASSETS"]

CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; background: #fff; }
h1 { font-size: 1.4em; margin: 0 0 .4em; } h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
table { border-collapse: collapse; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td pre { margin: .3em 0 0; max-width: 60em; overflow-x: auto; font-size: .85em; }
.banner { padding: .5em .8em; margin: .5em 0; border: 1px solid #d9a400; background: #fff6d5; }
.banner:empty { display: none; }
.muted { color: #666; font-size: .9em; }
.summary { display: flex; flex-wrap: wrap; gap: .4em 1.6em; margin: .6em 0; }
.summary div { min-width: 8em; }
.summary dt { color: #666; font-size: .8em; } .summary dd { margin: 0; font-size: 1.2em; }
.letter { display: inline-block; width: 1.8em; height: 1.8em; line-height: 1.8em; text-align: center;
          border-radius: 50%; font-weight: bold; color: #fff; background: #888; }
.letter-A { background: #2a8a2a; } .letter-Q { background: #c9a100; } .letter-X { background: #c62828; }
.letter-U { background: #9e9e9e; } .letter-W { background: #5c6bc0; }
.big .letter { font-size: 2em; }
td .letter { width: 1.5em; height: 1.5em; line-height: 1.5em; }
nav.ops, footer { margin: .4em 0; font-size: .9em; }
#pending { font-size: 1.1em; }
.popup { margin: .6em; font-size: .9em; } .popup h1 { font-size: 1.1em; }
"""

STATUS_JS = r"""
"use strict";
(function () {
  var PERIOD_MS = 2000;

  function get(obj, path) {
    var parts = path.split(".");
    for (var i = 0; i < parts.length; i++) {
      if (obj === null || obj === undefined) { return undefined; }
      obj = obj[parts[i]];
    }
    return obj;
  }

  function fmtTime(t) {
    if (typeof t !== "number" || !(t > 0)) { return ""; }
    return new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19) + "Z";
  }

  // The same units as the server's templates (frontend/_html.py: fmt_duration, fmt_rate, fmt_percent).
  function fmtDuration(s) {
    if (typeof s !== "number" || !isFinite(s) || s < 0) { return ""; }
    if (s < 10) { return s.toFixed(1).replace(/\.0$/, "") + " s"; }
    var total = Math.floor(s);
    var units = [[86400, "d", 3600, "h"], [3600, "h", 60, "min"], [60, "min", 1, "s"]];
    for (var i = 0; i < units.length; i++) {
      var u = units[i];
      if (total >= u[0]) {
        var rest = Math.floor((total % u[0]) / u[2]);
        return Math.floor(total / u[0]) + " " + u[1] + (rest ? " " + rest + " " + u[3] : "");
      }
    }
    return total + " s";
  }

  function fmtRate(v) {
    if (typeof v !== "number" || !isFinite(v)) { return ""; }
    return (v < 10 ? v.toFixed(1).replace(/\.0$/, "") : v.toFixed(0)) + " / min";
  }

  function fmtPercent(v) {
    if (typeof v !== "number" || !isFinite(v)) { return ""; }
    return (v * 100).toFixed(1) + " %";
  }

  function fmt(value, kind) {
    if (value === null || value === undefined) { return ""; }
    if (kind === "time") { return fmtTime(value); }
    if (typeof value === "boolean") { return value ? "yes" : "no"; }
    if (kind === "duration") { return fmtDuration(value); }
    if (kind === "rate") { return fmtRate(value); }
    if (kind === "ratio") { return fmtPercent(value); }
    return String(value);
  }

  function letter(text) {
    var span = document.createElement("span");
    span.className = "letter letter-" + text.replace(/[^A-Z]/g, "");
    span.textContent = text;
    return span;
  }

  function cell(value, kind) {
    var td = document.createElement("td");
    var text = fmt(value, kind);
    if (kind === "traceback") {
      if (text) {
        var details = document.createElement("details");
        var summary = document.createElement("summary");
        summary.textContent = "traceback";
        var pre = document.createElement("pre");
        pre.textContent = text;
        details.appendChild(summary);
        details.appendChild(pre);
        td.appendChild(details);
      }
    } else if (kind === "letter" && text) {
      td.appendChild(letter(text));
    } else if (kind === "domain" && text) {
      var a = document.createElement("a");
      a.href = document.body.dataset.base + "/rating/" + encodeURIComponent(text);
      a.textContent = text;
      td.appendChild(a);
    } else {
      td.textContent = text;
    }
    return td;
  }

  function fillTable(table, data) {
    var rows = get(data, table.dataset.source);
    var heads = table.querySelectorAll("thead th");
    var tbody = document.createElement("tbody");
    if (!Array.isArray(rows) || rows.length === 0) {
      var tr = document.createElement("tr");
      var td = document.createElement("td");
      td.colSpan = heads.length;
      td.className = "muted";
      td.textContent = Array.isArray(rows) ? "none" : "not available";
      tr.appendChild(td);
      tbody.appendChild(tr);
    } else {
      rows.forEach(function (row) {
        var tr = document.createElement("tr");
        heads.forEach(function (th) { tr.appendChild(cell(row[th.dataset.field], th.dataset.kind)); });
        tbody.appendChild(tr);
      });
    }
    table.replaceChild(tbody, table.querySelector("tbody"));
  }

  function render(data) {
    document.querySelectorAll("[data-path]").forEach(function (el) {
      var value = get(data, el.dataset.path);
      el.textContent = (value === undefined || value === null) ? "-" : fmt(value, el.dataset.kind);
    });
    document.querySelectorAll("table[data-source]").forEach(function (t) { fillTable(t, data); });
    var problems = [];
    if (data.broker_error) { problems.push("Broker: " + data.broker_error); }
    if (data.store_error) { problems.push("Store: " + data.store_error); }
    document.getElementById("problems").textContent = problems.join(" \u2014 ");
    document.getElementById("updated").textContent = "updated " + fmtTime(data.generated_at);
  }

  function refresh() {
    fetch("status.json", { cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(render)
      .catch(function (e) {
        document.getElementById("updated").textContent = "refresh failed (" + e.message + "), retrying";
      })
      .then(function () { window.setTimeout(refresh, PERIOD_MS); });
  }

  window.setTimeout(refresh, PERIOD_MS);
})();
"""

ASSETS: dict[str, tuple[str, bytes]] = {
    "frontend.css": ("text/css; charset=utf-8", CSS.lstrip().encode("utf-8")),
    "status.js": ("text/javascript; charset=utf-8", STATUS_JS.lstrip().encode("utf-8")),
}
