import { HTML_CLIENT_JS, HTML_CSS } from "./html-assets.js";
import { formatSpan, formatTime } from "./span.js";
import { safeText } from "./text.js";
import type { HostRecord, Report, Run } from "./types.js";

/** Bits of a host row's `flags`, in the order of {@link HOST_FLAGS}. */
export const HOST_FLAGS = [
  "rebooted",
  "over-policy",
  "failed",
  "newly-failing",
  "recovered",
  "missing",
  "new",
] as const;

/** Rows listed in each static table of the page; the host table has them all. */
const TABLE_LIMIT = 200;

/** What {@link renderHtml} writes. */
export interface HtmlOptions {
  /**
   * Page title.
   * @default "uptime report"
   */
  title?: string;
  /**
   * When the report was made (epoch ms), shown on the page.
   * @default Date.now()
   */
  generatedAt?: number;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** `s` safe as HTML text or a quoted attribute value, control characters shown as `\uXXXX`. */
export function escapeHtml(s: string): string {
  return safeText(s).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** JSON that can sit inside a `<script>` element: no `<`, `>`, `&` or line separators left raw. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * The host table's data, column-wise to keep a 100,000-host page small: every host of the newest
 * run, plus the hosts missing from it (as the previous run saw them).
 */
export function hostTableData(report: Report, runs: readonly Run[]) {
  const newest = runs.at(-1);
  const previous = runs.length >= 2 ? runs.at(-2) : undefined;
  const bit = (name: (typeof HOST_FLAGS)[number]) => 1 << HOST_FLAGS.indexOf(name);
  const flagsOf = new Map<string, number>();
  const mark = (target: string, b: number) => flagsOf.set(target, (flagsOf.get(target) ?? 0) | b);
  for (const r of report.rebooted) mark(r.target, bit("rebooted"));
  for (const o of report.overPolicy) mark(o.target, bit("over-policy"));
  for (const f of report.newlyFailing) mark(f.target, bit("newly-failing"));
  for (const r of report.recovered) mark(r.target, bit("recovered"));
  const statuses = ["ok", "missing"];
  const statusIndex = new Map(statuses.map((s, i) => [s, i]));
  const data = {
    flags: HOST_FLAGS,
    statuses,
    /** target */
    t: [] as string[],
    /** index into statuses */
    s: [] as number[],
    /** uptime seconds, -1 when unknown */
    u: [] as number[],
    /** boot time, epoch seconds, -1 when unknown */
    b: [] as number[],
    /** flags, bits of HOST_FLAGS */
    f: [] as number[],
    /** error message, "" for ok hosts */
    m: [] as string[],
  };
  const add = (h: HostRecord, target: string, status: string, flags: number) => {
    let si = statusIndex.get(status);
    if (si === undefined) {
      si = statuses.length;
      statuses.push(status);
      statusIndex.set(status, si);
    }
    data.t.push(target);
    data.s.push(si);
    data.u.push(h.uptimeSeconds ?? -1);
    data.b.push(h.bootedAt !== undefined ? Math.round(h.bootedAt / 1000) : -1);
    data.f.push(flags);
    data.m.push(h.ok ? "" : safeText(h.errorMessage ?? ""));
  };
  // Rows sorted by the target as shown (code unit order, as the page compares), so the page starts
  // without sorting.
  const rows = [...(newest?.hosts.values() ?? [])];
  for (const m of report.missing) {
    const h = previous?.hosts.get(m.target);
    if (h) rows.push(h);
  }
  const keyed = rows.map((h) => ({ h, t: safeText(h.target) }));
  keyed.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  for (const { h, t } of keyed) {
    if (newest && !newest.hosts.has(h.target)) {
      add(h, t, "missing", bit("missing"));
      continue;
    }
    let flags = flagsOf.get(h.target) ?? 0;
    if (!h.ok) flags |= bit("failed");
    if (previous && !previous.hosts.has(h.target)) flags |= bit("new");
    add(h, t, h.ok ? "ok" : safeText(h.errorCode ?? ""), flags);
  }
  return data;
}

function histogramSvg(report: Report): string {
  const buckets = report.summary.uptime;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const w = 560;
  const h = 220;
  const barW = 70;
  const gap = (w - buckets.length * barW) / (buckets.length + 1);
  const bars = buckets
    .map((b, i) => {
      const bh = Math.round((b.count / max) * (h - 70));
      const x = Math.round(gap + i * (barW + gap));
      const y = h - 40 - bh;
      return `<g class="bar" data-bucket="${escapeHtml(b.label)}" data-count="${b.count}"><rect x="${x}" y="${y}" width="${barW}" height="${bh}" rx="3"><title>${escapeHtml(b.label)}: ${b.count}</title></rect><text x="${x + barW / 2}" y="${y - 6}" text-anchor="middle">${b.count}</text><text x="${x + barW / 2}" y="${h - 20}" text-anchor="middle" class="axis">${escapeHtml(b.label)}</text></g>`;
    })
    .join("");
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-label="uptime distribution"><line x1="0" x2="${w}" y1="${h - 40}" y2="${h - 40}" class="base"/>${bars}</svg>`;
}

function failuresSvg(report: Report): string {
  const codes = report.summary.failuresByCode;
  if (codes.length === 0) return `<p class="none">No failures.</p>`;
  const max = Math.max(...codes.map((c) => c.count));
  const rowH = 26;
  const w = 560;
  const labelW = 170;
  const rows = codes
    .map((c, i) => {
      const bw = Math.max(2, Math.round((c.count / max) * (w - labelW - 60)));
      const y = i * rowH;
      return `<g class="code" data-code="${escapeHtml(c.code)}" data-count="${c.count}"><text x="${labelW - 8}" y="${y + 17}" text-anchor="end">${escapeHtml(c.code)}</text><rect x="${labelW}" y="${y + 4}" width="${bw}" height="${rowH - 8}" rx="3"/><text x="${labelW + bw + 6}" y="${y + 17}">${c.count}</text></g>`;
    })
    .join("");
  return `<svg class="chart" viewBox="0 0 ${w} ${codes.length * rowH}" role="img" aria-label="failures by error code">${rows}</svg>`;
}

function table(id: string, title: string, head: string[], rows: string[][], empty: string): string {
  const shown = rows.slice(0, TABLE_LIMIT);
  const more =
    rows.length > TABLE_LIMIT
      ? `<p class="more">${rows.length - TABLE_LIMIT} more: filter the host table below to see them all.</p>`
      : "";
  const body = shown.length
    ? `<div class="tbl"><table><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>${shown
        .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`)
        .join("")}</tbody></table></div>${more}`
    : `<p class="none">${empty}</p>`;
  return `<section class="list" id="${id}"><h2>${title} <span class="n" id="${id}-count">${rows.length}</span></h2>${body}</section>`;
}

/**
 * The report as one self-contained HTML page: inline CSS, inline JavaScript, SVG charts, the data
 * as JSON in the page. Works offline (its Content-Security-Policy allows no network at all).
 * Every host-controlled string is escaped; the host table renders only its visible rows.
 *
 * @example
 * await writeFile("report.html", renderHtml(analyzeRuns(runs), runs));
 */
export function renderHtml(report: Report, runs: readonly Run[], options: HtmlOptions = {}): string {
  const title = escapeHtml(options.title ?? "uptime report");
  const generated = formatTime(options.generatedAt ?? Date.now());
  const s = report.summary;
  const card = (id: string, label: string, n: number, cls = "") =>
    `<div class="card ${cls}"><div class="num" id="count-${id}">${n}</div><div class="label">${label}</div></div>`;
  const cards = [
    card("total", "hosts", s.total),
    card("ok", "ok", s.ok, "good"),
    card("failed", "failed", s.failed, s.failed ? "bad" : ""),
    ...(report.maxUptimeS !== undefined
      ? [
          card(
            "over-policy",
            `up &gt; ${escapeHtml(formatSpan(report.maxUptimeS))}`,
            report.overPolicy.length,
            report.overPolicy.length ? "warn" : "",
          ),
        ]
      : []),
    ...(report.compared
      ? [
          card("rebooted", "rebooted", report.rebooted.length, report.rebooted.length ? "warn" : ""),
          card(
            "newly-failing",
            "newly failing",
            report.newlyFailing.length,
            report.newlyFailing.length ? "bad" : "",
          ),
          card("recovered", "recovered", report.recovered.length, "good"),
          card("missing", "missing", report.missing.length, report.missing.length ? "warn" : ""),
        ]
      : []),
  ].join("");
  const runsList = report.runs
    .map(
      (r, i) =>
        `<li>run ${i + 1}: <code>${escapeHtml(r.source)}</code>: ${r.hosts} hosts${r.firstAt !== undefined ? `, ${formatTime(r.firstAt)}` : ""}${r.malformed ? `, ${r.malformed} malformed lines skipped` : ""}</li>`,
    )
    .join("");
  const e = escapeHtml;
  const sections = [
    report.compared
      ? table(
          "rebooted",
          "Rebooted since the previous run",
          ["host", "booted", "previous boot", "up"],
          report.rebooted.map((r) => [
            e(r.target),
            formatTime(r.bootedAt),
            formatTime(r.previousBootedAt),
            e(formatSpan(r.uptimeSeconds)),
          ]),
          "No host rebooted.",
        )
      : "",
    report.maxUptimeS !== undefined
      ? table(
          "over-policy",
          `Up longer than ${e(formatSpan(report.maxUptimeS))}`,
          ["host", "up", "booted"],
          report.overPolicy.map((o) => [
            e(o.target),
            e(formatSpan(o.uptimeSeconds)),
            o.bootedAt !== undefined ? formatTime(o.bootedAt) : "",
          ]),
          "No host is over the policy.",
        )
      : "",
    report.compared
      ? table(
          "newly-failing",
          "Newly failing",
          ["host", "error", "message"],
          report.newlyFailing.map((f) => [e(f.target), e(f.code), e(f.message)]),
          "No host started failing.",
        )
      : "",
    report.compared && report.missing.length
      ? table(
          "missing",
          "Missing from the newest run",
          ["host", "last seen"],
          report.missing.map((m) => [e(m.target), formatTime(m.lastAt)]),
          "",
        )
      : "",
  ].join("");
  const data = hostTableData(report, runs);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${title}</title>
<style>${HTML_CSS}</style>
</head>
<body>
<header><h1>${title}</h1><p class="meta">generated ${generated}${report.compared ? `; reboot tolerance: boot time precision + ${report.clockSkewS} s clock skew` : ""}</p><ul class="runs">${runsList}</ul></header>
<section class="cards">${cards}</section>
<section class="charts"><div><h2>Uptime distribution</h2>${histogramSvg(report)}</div><div><h2>Failures by error code</h2>${failuresSvg(report)}</div></section>
<div class="lists">${sections}</div>
<section id="hosts"><h2>All hosts <span class="n"><span id="hosts-shown">${data.t.length}</span> of <span id="hosts-total">${data.t.length}</span></span></h2>
<div class="controls"><input id="hosts-search" type="search" placeholder="search host, status, message" aria-label="search hosts" autocomplete="off"><select id="hosts-filter" aria-label="show only"><option value="">all hosts</option>${HOST_FLAGS.map((f) => `<option value="${f}">${f}</option>`).join("")}</select></div>
<div class="grid head" role="row"><button data-key="target" role="columnheader">host</button><button data-key="status" role="columnheader">status</button><button data-key="uptime" role="columnheader">up</button><button data-key="boot" role="columnheader">booted</button><button data-key="flags" role="columnheader">change</button><span role="columnheader">message</span></div>
<div id="hosts-scroll" role="table" aria-label="hosts"><div id="hosts-spacer"><div id="hosts-window"></div></div></div>
</section>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${HTML_CLIENT_JS}</script>
</body>
</html>
`;
}
