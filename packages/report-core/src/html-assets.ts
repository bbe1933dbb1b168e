// The page's inline CSS and JavaScript. The script reads the host table's data from the JSON
// element and renders only the rows in view (virtual scrolling), so 100,000 hosts stay responsive.
// Host-controlled strings reach the page only through textContent, never innerHTML.

export const HTML_CSS = `
:root{--fg:#1d2430;--muted:#5b6675;--line:#dde2e8;--bg:#f6f8fa;--card:#fff;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--bar:#3b82c4;--row:26px}
*{box-sizing:border-box}
body{margin:0;padding:20px 28px;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:18px 0 8px}
.meta,.runs{color:var(--muted);margin:0}.runs{padding-left:18px;font-size:13px}
code{font:12px ui-monospace,Menlo,Consolas,monospace}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-top:14px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:110px}
.card .num{font-size:24px;font-weight:600}.card .label{color:var(--muted);font-size:12px}
.card.good .num{color:var(--ok)}.card.bad .num{color:var(--bad)}.card.warn .num{color:var(--warn)}
.charts{display:flex;flex-wrap:wrap;gap:16px}.charts>div{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:0 14px 10px;flex:1 1 420px}
.chart{width:100%;max-width:560px;height:auto;font-size:12px}.chart rect{fill:var(--bar)}.chart .code rect{fill:var(--bad)}.chart .axis{fill:var(--muted)}.chart .base{stroke:var(--line)}
.lists{display:flex;flex-wrap:wrap;gap:0 16px}.list{flex:1 1 440px;min-width:0}
.tbl{max-height:300px;overflow:auto;border:1px solid var(--line);border-radius:6px;background:var(--card)}
.tbl table{border-collapse:collapse;font-size:13px;width:100%}
th{position:sticky;top:0}
th,td{text-align:left;padding:4px 10px;border-bottom:1px solid var(--line);max-width:520px;overflow-wrap:anywhere}
th{background:#eef1f4;font-weight:600}
.n{color:var(--muted);font-weight:400;font-size:13px}.none,.more{color:var(--muted)}
.controls{display:flex;gap:8px;margin-bottom:6px}
#hosts-search{flex:0 1 360px;padding:6px 8px;border:1px solid var(--line);border-radius:6px;font:inherit}
#hosts-filter{padding:6px;border:1px solid var(--line);border-radius:6px;font:inherit;background:#fff}
.grid{display:grid;grid-template-columns:minmax(180px,2fr) 150px 120px 180px 170px minmax(120px,2fr);align-items:center}
.grid>*{padding:0 8px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.head{background:#eef1f4;border:1px solid var(--line);border-bottom:0;border-radius:6px 6px 0 0;height:30px;font-weight:600}
.head button{all:unset;cursor:pointer;padding:0 8px;height:30px;line-height:30px}
.head button:focus-visible{outline:2px solid var(--bar)}
.head button[aria-sort=ascending]::after{content:" \\25B2"}.head button[aria-sort=descending]::after{content:" \\25BC"}
#hosts-scroll{height:520px;overflow-y:auto;background:var(--card);border:1px solid var(--line);border-radius:0 0 6px 6px;contain:strict}
#hosts-spacer{position:relative}
#hosts-window{position:absolute;left:0;right:0;top:0;will-change:transform}
.row{height:var(--row);line-height:var(--row);border-bottom:1px solid #eef0f3;font-size:13px}
.row .st-ok{color:var(--ok)}.row .st-bad{color:var(--bad)}.row .fl{color:var(--warn)}
.row>span:first-child{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
`;

export const HTML_CLIENT_JS = `
(function () {
  "use strict";
  var T0 = performance.now();
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var N = D.t.length;
  var ROW_H = 26;
  var OVERSCAN = 8;
  var scroller = document.getElementById("hosts-scroll");
  var spacer = document.getElementById("hosts-spacer");
  var win = document.getElementById("hosts-window");
  var shown = document.getElementById("hosts-shown");
  var search = document.getElementById("hosts-search");
  var filter = document.getElementById("hosts-filter");
  var headers = document.querySelectorAll(".head button");

  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function span(s) {
    if (s < 0) return "";
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d > 0) return d + "d " + pad(h) + "h " + pad(m) + "m";
    if (h > 0) return h + "h " + pad(m) + "m";
    return m + "m " + pad(Math.floor(s % 60)) + "s";
  }
  function time(s) {
    return s < 0 ? "" : new Date(s * 1000).toISOString().replace("T", " ").replace(/\\.\\d+Z$/, "Z");
  }
  function flagText(f) {
    var out = [];
    for (var i = 0; i < D.flags.length; i++) if (f & (1 << i)) out.push(D.flags[i]);
    return out.join(", ");
  }

  // order: every row index sorted by the current key; view: the rows of order that match.
  var order = new Uint32Array(N);
  for (var i = 0; i < N; i++) order[i] = i;
  var view = order;
  var viewLen = N;
  var sortKey = "target";
  var sortDir = 1;
  var hay = null;

  // The rows arrive sorted by target, so a row's index is its rank by target and every comparison
  // below is between numbers (string comparisons made sorting 100,000 rows take a second).
  var statusRank = D.statuses.map(function (_, i) { return i; }).sort(function (x, y) {
    return D.statuses[x] < D.statuses[y] ? -1 : D.statuses[x] > D.statuses[y] ? 1 : 0;
  });
  var rankOf = new Uint32Array(D.statuses.length);
  statusRank.forEach(function (si, r) { rankOf[si] = r; });
  function compare(key) {
    var s = D.s, u = D.u, b = D.b, f = D.f;
    if (key === "target") return function (x, y) { return x - y; };
    if (key === "status") return function (x, y) { return rankOf[s[x]] - rankOf[s[y]] || x - y; };
    if (key === "uptime") return function (x, y) { return u[x] - u[y] || x - y; };
    if (key === "boot") return function (x, y) { return b[x] - b[y] || x - y; };
    return function (x, y) { return f[x] - f[y] || x - y; };
  }
  function sortBy(key, dir) {
    var cmp = compare(key);
    var arr = new Uint32Array(N);
    for (var i = 0; i < N; i++) arr[i] = i;
    arr.sort(dir > 0 ? cmp : function (x, y) { return cmp(y, x); });
    order = arr;
    sortKey = key;
    sortDir = dir;
    headers.forEach(function (h) {
      if (h.dataset.key === key) h.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      else h.removeAttribute("aria-sort");
    });
    applyFilter();
  }
  function applyFilter() {
    var q = search.value.trim().toLowerCase();
    var bit = filter.value ? 1 << D.flags.indexOf(filter.value) : 0;
    if (!q && !bit) {
      view = order;
      viewLen = N;
    } else {
      if (q && !hay) buildHay();
      var out = new Uint32Array(N);
      var n = 0;
      for (var j = 0; j < N; j++) {
        var r = order[j];
        if (bit && !(D.f[r] & bit)) continue;
        if (q && hay[r].indexOf(q) < 0) continue;
        out[n++] = r;
      }
      view = out;
      viewLen = n;
    }
    shown.textContent = String(viewLen);
    spacer.style.height = viewLen * ROW_H + "px";
    scroller.scrollTop = 0;
    render();
  }

  function buildHay() {
    hay = new Array(N);
    for (var k = 0; k < N; k++) hay[k] = (D.t[k] + " " + D.statuses[D.s[k]] + " " + D.m[k]).toLowerCase();
  }

  var pool = [];
  function makeRow() {
    var row = document.createElement("div");
    row.className = "row grid";
    row.setAttribute("role", "row");
    for (var c = 0; c < 6; c++) {
      var cell = document.createElement("span");
      cell.setAttribute("role", "cell");
      row.appendChild(cell);
    }
    win.appendChild(row);
    return row;
  }
  function render() {
    var first = Math.max(0, Math.floor(scroller.scrollTop / ROW_H) - OVERSCAN);
    var count = Math.ceil(scroller.clientHeight / ROW_H) + 2 * OVERSCAN;
    var last = Math.min(viewLen, first + count);
    win.style.transform = "translateY(" + first * ROW_H + "px)";
    while (pool.length < last - first) pool.push(makeRow());
    for (var p = 0; p < pool.length; p++) {
      var row = pool[p];
      var k = first + p;
      if (k >= last) { row.hidden = true; continue; }
      row.hidden = false;
      var r = view[k];
      var cells = row.children;
      var status = D.statuses[D.s[r]];
      row.dataset.index = String(r);
      cells[0].textContent = D.t[r];
      cells[0].title = D.t[r];
      cells[1].textContent = status;
      cells[1].className = status === "ok" ? "st-ok" : "st-bad";
      cells[2].textContent = span(D.u[r]);
      cells[3].textContent = time(D.b[r]);
      cells[4].textContent = flagText(D.f[r]);
      cells[4].className = "fl";
      cells[5].textContent = D.m[r];
      cells[5].title = D.m[r];
    }
  }

  var pending = false;
  scroller.addEventListener("scroll", function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; render(); });
  }, { passive: true });
  window.addEventListener("resize", render);
  search.addEventListener("input", applyFilter);
  filter.addEventListener("change", applyFilter);
  headers.forEach(function (h) {
    h.addEventListener("click", function () {
      var key = h.dataset.key;
      sortBy(key, key === sortKey ? -sortDir : 1);
    });
  });
  // The rows arrive sorted by target.
  headers[0].setAttribute("aria-sort", "ascending");
  applyFilter();
  // When the table is ready, ms since navigation started (benchmarks read it).
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  document.body.dataset.scriptMs = String(Math.round(performance.now() - T0));
  document.body.dataset.ready = "1";
  // The search text of every row, made once the page is up rather than on the first keystroke.
  setTimeout(function () { if (!hay) buildHay(); }, 50);
})();
`;
