// The page of the HTML export (flamegraph_html.h): markup, style and script
// in one string, no network access. The exporter writes the JSON data in
// place of __TRACESTORE_DATA__:
//
//   {"title", "trace", "state", "started", "duration_ns", "events", "calls",
//    "threads", "open_at_end",
//    "tree": [name, total_ns, self_ns, calls, children, ...]   (preorder)
//    "frames", "distinct_stacks",
//    "functions": [[name, file, line, calls, self_ns, total_ns], ...],
//    "function_count", "names": [...], "kinds": [0 python, 1 C, 2 other],
//    "lines": [[name, first_line, source_status, [text...], [line, hits,
//               self_ns, in_calls_ns, ...]], ...]   (export/line_view.h)}
//
// The line view (a second script, reading the same data) shows a function's
// source with a heat bar per line when its name is clicked in the table or
// its frame in the flame graph; page.html#lines=NAME opens it for NAME.

#include "tracestore/export/flamegraph_html.h"

namespace tracestore::internal {

const std::string_view kFlameGraphTemplate = R"tshtml(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="tracestore export --format html">
<title>tracestore flame graph</title>
<style>
:root { --fg: #1d1d1f; --muted: #626266; --line: #d9d9de; --head: #f2f2f5;
        --accent: #0b57d0; --hit: #c51fd6; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff;
       font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { padding: 12px 16px 8px; border-bottom: 1px solid var(--line); }
h1 { font-size: 17px; margin: 0 0 2px; word-break: break-all; }
h2 { font-size: 15px; margin: 18px 16px 6px; }
.muted { color: var(--muted); }
.bar { display: flex; gap: 10px; align-items: center; flex-wrap: wrap;
       padding: 8px 16px; }
#search { width: 320px; padding: 4px 8px; font: inherit;
          border: 1px solid var(--line); border-radius: 4px; }
button { font: inherit; padding: 3px 10px; border: 1px solid var(--line);
         background: var(--head); border-radius: 4px; cursor: pointer; }
button:hover { border-color: var(--accent); }
#details { min-height: 22px; padding: 0 16px 6px; white-space: nowrap;
           overflow: hidden; text-overflow: ellipsis; }
#flame { position: relative; margin: 0 16px; overflow: hidden;
         border: 1px solid var(--line); border-radius: 3px; min-height: 40px;
         background: #fafafa; }
.f { position: absolute; height: 17px; overflow: hidden; white-space: nowrap;
     padding: 0 3px; border-right: 1px solid rgba(255,255,255,.85);
     font: 11px/17px ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
     color: #111; cursor: pointer; }
.f:hover { outline: 1px solid #000; z-index: 1; }
.f.anc { opacity: .55; }
.f.dim { opacity: .28; }
.f.hit { background: var(--hit) !important; color: #fff; opacity: 1; }
#tip { position: fixed; display: none; pointer-events: none; z-index: 5;
       max-width: 640px; padding: 5px 8px; background: #fffef2;
       border: 1px solid #bbb; border-radius: 3px; font-size: 12px;
       box-shadow: 0 2px 6px rgba(0,0,0,.15); word-break: break-all; }
.tablewrap { margin: 0 16px 24px; max-height: 70vh; overflow: auto;
             border: 1px solid var(--line); border-radius: 3px; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th { position: sticky; top: 0; background: var(--head); cursor: pointer;
     user-select: none; text-align: right; padding: 4px 8px;
     border-bottom: 1px solid var(--line); white-space: nowrap; }
th.l, td.l { text-align: left; }
th.sorted::after { content: " \25BC"; }
th.sorted.asc::after { content: " \25B2"; }
td { text-align: right; padding: 2px 8px; border-bottom: 1px solid #eee;
     font-variant-numeric: tabular-nums; white-space: nowrap; }
td.fn { font-family: ui-monospace, Menlo, Consolas, monospace; cursor: pointer; }
td.fn:hover { color: var(--accent); text-decoration: underline; }
td.file { color: var(--muted); max-width: 420px; overflow: hidden;
          text-overflow: ellipsis; }
tr:hover td { background: #f5f8ff; }
.pct { display: inline-block; min-width: 48px; }
#lineview table { font-size: 12px; }
#lineview td.code { text-align: left; white-space: pre;
                    font-family: ui-monospace, Menlo, Consolas, monospace; }
#lineview td.heat { width: 130px; padding: 2px 6px; }
#lineview .heatbar { display: block; height: 10px; min-width: 1px;
                     background: hsl(18, 90%, 55%); border-radius: 2px; }
#lineview tr.hot td { background: #ffe9dc; }
#lineview tr.hot td.code { font-weight: 600; }
#lineview tr.idle td { color: var(--muted); }
#linemeta { padding: 0 16px 6px; }
</style>
</head>
<body>
<header>
  <h1 id="title">tracestore</h1>
  <div id="meta" class="muted"></div>
</header>
<div class="bar">
  <input id="search" type="search" placeholder="Search functions (regular expression)" autocomplete="off">
  <button id="reset" type="button">Reset zoom</button>
  <span id="matched" class="muted"></span>
</div>
<div id="details" class="muted">Click a frame to zoom into it; click a frame above it, press Esc or Reset zoom to zoom out. Press / to search.</div>
<div id="flame" aria-label="flame graph"></div>
<div id="note" class="bar muted"></div>
<h2>Functions</h2>
<div class="tablewrap">
<table id="functions">
  <thead><tr>
    <th class="l" data-k="name">Function</th>
    <th data-k="self">Self</th>
    <th data-k="selfp">Self %</th>
    <th data-k="total">Total</th>
    <th data-k="totalp">Total %</th>
    <th data-k="calls">Calls</th>
    <th data-k="avg">Self / call</th>
    <th class="l" data-k="file">File</th>
  </tr></thead>
  <tbody></tbody>
</table>
</div>
<div id="rowsnote" class="bar muted"></div>
<h2 id="lineshead" hidden>Lines</h2>
<div id="linemeta" class="muted" hidden></div>
<div id="lineview" class="tablewrap" hidden></div>
<div id="tip"></div>
<script id="trace-data" type="application/json">__TRACESTORE_DATA__</script>
<script>
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("trace-data").textContent);
  var names = D.names, kinds = D.kinds;
  var $ = function (id) { return document.getElementById(id); };

  // ---- the tree, from preorder (name, total, self, calls, children) ----
  var T = D.tree, n = Math.floor(T.length / 5);
  var fname = new Int32Array(n), parent = new Int32Array(n);
  var total = new Float64Array(n), self = new Float64Array(n);
  var calls = new Float64Array(n), kids = new Array(n);
  var open = [], left = [];
  for (var i = 0; i < n; i++) {
    fname[i] = T[5 * i]; total[i] = T[5 * i + 1]; self[i] = T[5 * i + 2];
    calls[i] = T[5 * i + 3]; kids[i] = [];
    if (open.length) {
      parent[i] = open[open.length - 1];
      kids[parent[i]].push(i);
      left[left.length - 1]--;
    } else {
      parent[i] = -1;
    }
    if (T[5 * i + 4] > 0) { open.push(i); left.push(T[5 * i + 4]); }
    while (open.length && left[left.length - 1] <= 0) { open.pop(); left.pop(); }
  }
  var nameOf = function (i) { return names[fname[i]]; };
  for (i = 0; i < n; i++) {
    kids[i].sort(function (a, b) {
      var x = nameOf(a), y = nameOf(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }
  var all = n ? total[0] : 0;

  // ---- formatting ----
  function fmtNs(ns) {
    if (ns >= 1e9) return (ns / 1e9).toFixed(ns >= 1e11 ? 0 : 2) + " s";
    if (ns >= 1e6) return (ns / 1e6).toFixed(ns >= 1e8 ? 0 : 2) + " ms";
    if (ns >= 1e3) return (ns / 1e3).toFixed(ns >= 1e5 ? 0 : 2) + " \u00b5s";
    return Math.round(ns) + " ns";
  }
  function fmtInt(v) { return Math.round(v).toLocaleString("en-US"); }
  function pct(v, of) { return of > 0 ? (100 * v / of).toFixed(2) + "%" : "-"; }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" }[c];
    });
  }

  // ---- header ----
  document.title = "tracestore: " + D.title;
  $("title").textContent = D.title;
  $("meta").textContent = [
    "duration " + fmtNs(D.duration_ns),
    D.threads + (D.threads === 1 ? " thread" : " threads"),
    fmtInt(D.calls) + " calls",
    fmtInt(D.events) + " events",
    "started " + D.started,
    D.state === "closed" ? "closed trace" : "recording (snapshot)",
    D.trace
  ].join(" \u00b7 ");
  var notes = [];
  if (D.frames < D.distinct_stacks)
    notes.push("Showing the " + fmtInt(D.frames) + " widest of " +
               fmtInt(D.distinct_stacks) + " distinct stacks.");
  if (D.open_at_end > 0)
    notes.push(fmtInt(D.open_at_end) + " calls were still open: they end at their thread's last event.");
  $("note").textContent = notes.join(" ");

  // ---- colours: warm by top-level package for Python, cool for C ----
  function hash(s) {
    var h = 2166136261;
    for (var k = 0; k < s.length; k++) { h ^= s.charCodeAt(k); h = Math.imul(h, 16777619); }
    return h >>> 0;
  }
  var colorCache = {};
  function color(i) {
    var nm = fname[i];
    if (colorCache[nm]) return colorCache[nm];
    var name = names[nm], kind = kinds[nm], c;
    if (kind === 2) {
      c = "hsl(220,10%,80%)";
    } else {
      var top = name.split(".")[0], h = hash(top), v = hash(name);
      if (kind === 1) c = "hsl(" + (195 + h % 30) + ",55%," + (68 + v % 12) + "%)";
      else c = "hsl(" + (h % 44 + v % 9) + "," + (70 + v % 20) + "%," + (56 + v % 14) + "%)";
    }
    colorCache[nm] = c;
    return c;
  }

  // ---- the flame graph (callers above their callees) ----
  var flame = $("flame"), ROW = 18, MAX_DIVS = 12000;
  var zoom = 0, hits = null;
  function render() {
    flame.textContent = "";
    if (!n || all <= 0) {
      flame.textContent = "No calls in this trace.";
      return;
    }
    var width = flame.clientWidth || 1000;
    var frag = document.createDocumentFragment(), count = 0, maxRow = 0;
    function add(i, x, w, row, cls) {
      var d = document.createElement("div");
      var c = "f" + cls;
      if (hits) c += hits[i] ? " hit" : " dim";
      d.className = c;
      d.setAttribute("data-i", i);
      d.style.left = x + "px";
      d.style.width = Math.max(w - 1, 1) + "px";
      d.style.top = row * ROW + "px";
      d.style.background = color(i);
      if (w > 28) d.textContent = nameOf(i);
      frag.appendChild(d);
      count++;
      if (row > maxRow) maxRow = row;
    }
    var path = [];
    for (var a = zoom; a !== -1; a = parent[a]) path.unshift(a);
    for (var r = 0; r < path.length - 1; r++) add(path[r], 0, width, r, " anc");
    var base = path.length - 1, scale = width / total[zoom];
    add(zoom, 0, width, base, "");
    var queue = [zoom], xs = [0], rows = [base];
    for (var q = 0; q < queue.length && count < MAX_DIVS; q++) {
      var x = xs[q], ks = kids[queue[q]];
      for (var k = 0; k < ks.length && count < MAX_DIVS; k++) {
        var c = ks[k], w = total[c] * scale;
        if (w >= 0.75) {
          add(c, x, w, rows[q] + 1, "");
          queue.push(c); xs.push(x); rows.push(rows[q] + 1);
        }
        x += w;
      }
    }
    flame.style.height = (maxRow + 1) * ROW + 2 + "px";
    flame.appendChild(frag);
  }
  function describe(i) {
    var s = nameOf(i) + " \u2014 total " + fmtNs(total[i]) + " (" + pct(total[i], all) + " of all";
    if (zoom !== 0 && zoom !== i) s += ", " + pct(total[i], total[zoom]) + " of zoom";
    return s + "), self " + fmtNs(self[i]) + ", " + fmtInt(calls[i]) + " calls";
  }
  function frameOf(e) {
    var t = e.target;
    while (t && t !== flame && !(t.getAttribute && t.getAttribute("data-i"))) t = t.parentNode;
    return t && t !== flame ? +t.getAttribute("data-i") : -1;
  }
  var tip = $("tip");
  flame.addEventListener("mousemove", function (e) {
    var i = frameOf(e);
    if (i < 0) { tip.style.display = "none"; return; }
    tip.textContent = describe(i);
    tip.style.display = "block";
    var x = e.clientX + 14, y = e.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth) x = Math.max(0, e.clientX - tip.offsetWidth - 8);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  });
  flame.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  flame.addEventListener("click", function (e) {
    var i = frameOf(e);
    if (i < 0) return;
    zoom = i;
    $("details").textContent = i === 0 ? "" : "Zoomed into " + describe(i);
    render();
  });
  function resetZoom() {
    zoom = 0;
    $("details").textContent = "";
    render();
  }
  $("reset").addEventListener("click", resetZoom);

  // ---- search ----
  var search = $("search"), pattern = null;
  function compile(text) {
    if (!text) return null;
    try { return new RegExp(text, "i"); } catch (err) {
      return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i");
    }
  }
  function applySearch() {
    pattern = compile(search.value);
    if (!pattern) {
      hits = null;
      $("matched").textContent = "";
    } else {
      hits = new Uint8Array(n);
      var covered = new Uint8Array(n), sum = 0, frames = 0;
      for (var i = 0; i < n; i++) {
        if (pattern.test(nameOf(i))) { hits[i] = 1; frames++; }
        var up = parent[i] >= 0 && covered[parent[i]];
        if (hits[i] && !up) sum += total[i];
        covered[i] = up || hits[i];
      }
      $("matched").textContent = "matched " + fmtInt(frames) + " frames, " +
          fmtNs(sum) + " (" + pct(sum, all) + ")";
    }
    render();
    renderTable();
  }
  var pending = 0;
  search.addEventListener("input", function () {
    clearTimeout(pending);
    pending = setTimeout(applySearch, 120);
  });

  // ---- the function table ----
  var F = D.functions.map(function (r) {
    return { name: names[r[0]], file: r[1] ? r[1] + (r[2] ? ":" + r[2] : "") : "",
             calls: r[3], self: r[4], total: r[5],
             avg: r[3] > 0 ? r[4] / r[3] : 0 };
  });
  var sortKey = "self", sortAsc = false, MAX_ROWS = 1000, showAll = false;
  var heads = document.querySelectorAll("#functions th");
  function value(r, k) {
    if (k === "selfp") return r.self;
    if (k === "totalp") return r.total;
    return r[k];
  }
  function renderTable() {
    var rows = pattern ? F.filter(function (r) { return pattern.test(r.name); }) : F.slice();
    rows.sort(function (a, b) {
      var x = value(a, sortKey), y = value(b, sortKey);
      var c = x < y ? -1 : x > y ? 1 : 0;
      if (c === 0) c = a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
      return sortAsc ? c : -c;
    });
    var shown = showAll ? rows.length : Math.min(rows.length, MAX_ROWS), html = [];
    for (var i = 0; i < shown; i++) {
      var r = rows[i];
      html.push("<tr><td class=\"l fn\" title=\"" + esc(r.name) + "\">" + esc(r.name) +
        "</td><td>" + fmtNs(r.self) + "</td><td><span class=\"pct\">" + pct(r.self, all) +
        "</span></td><td>" + fmtNs(r.total) + "</td><td><span class=\"pct\">" + pct(r.total, all) +
        "</span></td><td>" + fmtInt(r.calls) + "</td><td>" + fmtNs(r.avg) +
        "</td><td class=\"l file\" title=\"" + esc(r.file) + "\">" + esc(r.file) + "</td></tr>");
    }
    document.querySelector("#functions tbody").innerHTML = html.join("");
    for (i = 0; i < heads.length; i++) {
      var k = heads[i].getAttribute("data-k");
      heads[i].className = (k === "name" || k === "file" ? "l " : "") +
          (k === sortKey ? "sorted" + (sortAsc ? " asc" : "") : "");
    }
    var note = "";
    if (shown < rows.length)
      note = "Showing " + fmtInt(shown) + " of " + fmtInt(rows.length) + " functions. ";
    if (D.function_count > F.length)
      note += "The page holds the " + fmtInt(F.length) + " functions with the most self time of " +
          fmtInt(D.function_count) + ".";
    $("rowsnote").innerHTML = esc(note) + (shown < rows.length ? " <button id=\"more\" type=\"button\">Show all</button>" : "");
    var more = $("more");
    if (more) more.addEventListener("click", function () { showAll = true; renderTable(); });
  }
  for (var h = 0; h < heads.length; h++) {
    heads[h].addEventListener("click", function () {
      var k = this.getAttribute("data-k");
      if (k === sortKey) sortAsc = !sortAsc;
      else { sortKey = k; sortAsc = k === "name" || k === "file"; }
      renderTable();
    });
  }
  document.querySelector("#functions tbody").addEventListener("click", function (e) {
    var t = e.target;
    if (!t.classList || !t.classList.contains("fn")) return;
    search.value = "^" + t.textContent.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "$";
    applySearch();
    window.scrollTo({ top: 0, behavior: "smooth" });
  });

  // ---- keys, resizing ----
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      if (document.activeElement === search && search.value) { search.value = ""; applySearch(); }
      else resetZoom();
    } else if (e.key === "/" && document.activeElement !== search) {
      e.preventDefault();
      search.focus();
    }
  });
  var resizing = 0;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(render, 100);
  });

  render();
  renderTable();
  // A link can carry a search: page.html#q=REGEX.
  var asked = /(?:^#|&)q=([^&]*)/.exec(location.hash);
  if (asked) {
    search.value = decodeURIComponent(asked[1]);
    applySearch();
  }
})();
</script>
<script>
// The line view: a function's source with hits, times and a heat bar per
// line (data: D.lines). Nothing changes on a page without line events.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("trace-data").textContent);
  var L = D.lines || [], names = D.names, T = D.tree;
  var $ = function (id) { return document.getElementById(id); };
  if (!L.length) return;
  var byName = {};
  for (var k = 0; k < L.length; k++) byName[L[k][0]] = L[k];
  function fmtNs(ns) {
    if (ns >= 1e9) return (ns / 1e9).toFixed(2) + " s";
    if (ns >= 1e6) return (ns / 1e6).toFixed(2) + " ms";
    if (ns >= 1e3) return (ns / 1e3).toFixed(2) + " \u00b5s";
    return Math.round(ns) + " ns";
  }
  function fmtInt(v) { return Math.round(v).toLocaleString("en-US"); }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" }[c];
    });
  }
  var fileOf = {};
  for (k = 0; k < D.functions.length; k++)
    fileOf[D.functions[k][0]] = D.functions[k][1];
  function show(name) {
    var e = byName[name], view = $("lineview"), meta = $("linemeta");
    $("lineshead").hidden = false; meta.hidden = false; view.hidden = false;
    if (!e) {
      meta.textContent = "No line events for " + names[name] +
          " (record with --lines; only traced functions have them).";
      view.innerHTML = "";
      return;
    }
    var first = e[1], status = e[2], src = e[3], R = e[4], rows = {};
    var sum = 0, max = 0, hot = 0, last = first;
    for (var i = 0; i + 3 < R.length; i += 4) {
      var t = R[i + 2] + R[i + 3];
      rows[R[i]] = { hits: R[i + 1], self: R[i + 2], calls: R[i + 3], time: t };
      sum += t;
      if (t > max || !hot) { max = t; hot = R[i]; }
      if (R[i] > last) last = R[i];
    }
    var note = ["Lines of " + names[name], (fileOf[name] || "") + ":" + first,
                "line time " + fmtNs(sum) + " (own + callees)"];
    if (status === 1) note.push("the source file was not found: lines without text");
    if (status === 2) note.push("source left out of the page (size limit)");
    meta.textContent = note.join(" \u00b7 ");
    var html = ["<table><thead><tr><th>Line</th><th>Hits</th><th>Time</th>",
                "<th>% Time</th><th>Per hit</th><th>In calls</th>",
                "<th class=\"l\">Heat</th><th class=\"l\">Source</th></tr></thead><tbody>"];
    for (var line = first; line <= last; line++) {
      var r = rows[line], text = status === 0 ? src[line - first] : undefined;
      if (!r && text === undefined) continue;
      var code = text === undefined ? "" : esc(text);
      if (!r) {
        html.push("<tr class=\"idle\" data-line=\"" + line + "\"><td>" + line +
                  "</td><td></td><td></td><td></td><td></td><td></td><td class=\"heat\"></td>" +
                  "<td class=\"code\">" + code + "</td></tr>");
        continue;
      }
      var w = max > 0 ? Math.max(100 * r.time / max, 0.5) : 0;
      html.push("<tr" + (line === hot ? " class=\"hot\"" : "") + " data-line=\"" + line +
                "\"><td>" + line + "</td><td>" + fmtInt(r.hits) + "</td><td>" + fmtNs(r.time) +
                "</td><td>" + (sum > 0 ? (100 * r.time / sum).toFixed(1) + "%" : "-") +
                "</td><td>" + fmtNs(r.hits ? r.time / r.hits : 0) + "</td><td>" + fmtNs(r.calls) +
                "</td><td class=\"heat\"><span class=\"heatbar\" style=\"width:" + w.toFixed(1) +
                "%\"></span></td><td class=\"code\">" + code + "</td></tr>");
    }
    html.push("</tbody></table>");
    view.innerHTML = html.join("");
  }
  function nameIndex(text) {
    var any = -1;
    for (var n = 0; n < names.length; n++) {
      if (names[n] !== text) continue;
      if (byName[n]) return n;
      if (any < 0) any = n;
    }
    return any;
  }
  document.querySelector("#functions tbody").addEventListener("click", function (e) {
    var t = e.target;
    if (!t.classList || !t.classList.contains("fn")) return;
    var n = nameIndex(t.getAttribute("title") || t.textContent);
    if (n < 0) return;
    show(n);
    if (byName[n]) setTimeout(function () { $("lineshead").scrollIntoView(); }, 0);
  });
  $("flame").addEventListener("click", function (e) {
    var t = e.target;
    while (t && t !== this && !(t.getAttribute && t.getAttribute("data-i"))) t = t.parentNode;
    if (!t || t === this) return;
    var n = T[5 * +t.getAttribute("data-i")];
    if (byName[n]) show(n);
  });
  // page.html#lines=NAME: as if NAME were clicked in the table.
  var asked = /(?:^#|&)lines=([^&]*)/.exec(location.hash);
  if (asked) {
    var want = decodeURIComponent(asked[1]), cells = document.querySelectorAll("#functions td.fn");
    for (var c = 0; c < cells.length; c++) {
      if (cells[c].getAttribute("title") === want) { cells[c].click(); return; }
    }
    var n = nameIndex(want);
    if (n >= 0) show(n);
  }
})();
</script>
</body>
</html>
)tshtml";

}  // namespace tracestore::internal
