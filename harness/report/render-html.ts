import { conversationOutcome, conversationParties, conversationsOf } from './conversation-view.js';
import { createHash } from 'node:crypto';
import { forHtml as h } from '../core/escape.js';
import { ladderSteps, logEventsOf, negotiatedRows, showValue, type LadderStep } from './observation-view.js';
import type { CheckResult, CheckStatus, LogEvent, Report, ScenarioReport } from './types.js';
import { expectationOf, passCounts, stackMatrix, type StackMatrix } from './stack-matrix.js';

type Observation = CheckResult['observations'][number];

const STATUSES: readonly CheckStatus[] = ['fail', 'error', 'inconclusive', 'pass'];
const VERDICT = ['PASS: every check passed', 'FAIL: a check failed', 'NO VERDICT: the lab could not judge every check'] as const;
/** A note of the client's longer than this (s_client prints ~60 lines) is folded after its first lines. */
const NOTE_LINES_SHOWN = 3;

const CSS = `
:root{--pass:#15803d;--pass-bg:#dcfce7;--fail:#b91c1c;--fail-bg:#fee2e2;--error:#9a3412;--error-bg:#ffedd5;--inconclusive:#4b5563;--inconclusive-bg:#e5e7eb;--c:#1d4ed8;--s:#047857}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;padding:16px 24px;color:#111827;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:24px 0 8px}h3{font-size:15px;margin:14px 0 6px}h4{font-size:14px;margin:12px 0 4px}
pre,code,.mono{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{margin:0;white-space:pre-wrap;word-break:break-all}
.verdict{font-weight:700;font-size:16px;margin:6px 0}.v-0{color:var(--pass)}.v-1{color:var(--fail)}.v-2{color:var(--error)}
.meta{color:#4b5563;margin:0}
.badge{display:inline-block;padding:0 6px;border-radius:4px;font-size:12px;font-weight:600}
.badge.st-pass{background:var(--pass-bg);color:var(--pass)}.badge.st-fail{background:var(--fail-bg);color:var(--fail)}
.badge.st-error{background:var(--error-bg);color:var(--error)}.badge.st-inconclusive{background:var(--inconclusive-bg);color:var(--inconclusive)}
#filter{border:1px solid #d1d5db;border-radius:6px;padding:6px 10px;margin:0 0 10px;display:inline-flex;gap:14px;align-items:center}
#filter legend{font-weight:600;padding:0 4px}
table{border-collapse:collapse}
table.matrix th{text-align:left;vertical-align:top;padding:4px 10px 4px 0;white-space:nowrap;font-weight:600}
table.matrix td{padding:3px 0}
a.cell{display:inline-block;min-width:18px;margin:1px;padding:1px 6px;border-radius:3px;font-size:11px;text-decoration:none;border:1px solid transparent}
a.cell:hover,a.cell:focus{border-color:#111827}
a.cell.st-pass{background:var(--pass);color:#fff}a.cell.st-fail{background:var(--fail);color:#fff}
a.cell.st-error{background:#ea580c;color:#fff}a.cell.st-inconclusive{background:#9ca3af;color:#fff}
.hide-pass a.cell.st-pass,.hide-pass details.check.st-pass{display:none}
.hide-fail a.cell.st-fail,.hide-fail details.check.st-fail{display:none}
.hide-error a.cell.st-error,.hide-error details.check.st-error{display:none}
.hide-inconclusive a.cell.st-inconclusive,.hide-inconclusive details.check.st-inconclusive{display:none}
table.grid th,table.grid td{border:1px solid #e5e7eb;padding:3px 6px;text-align:left;vertical-align:top}
table.grid th{background:#f9fafb}
table.assertions pre{max-height:18em;overflow:auto}
section.scenario{border-top:2px solid #e5e7eb;margin-top:18px}
details.check{border:1px solid #e5e7eb;border-left-width:5px;border-radius:4px;margin:6px 0;padding:0 10px}
details.check.st-pass{border-left-color:var(--pass)}details.check.st-fail{border-left-color:var(--fail)}
details.check.st-error{border-left-color:#ea580c}details.check.st-inconclusive{border-left-color:#9ca3af}
details.check>summary{cursor:pointer;padding:6px 0}
details.check[open]>summary{border-bottom:1px solid #e5e7eb;margin-bottom:8px}
dl.about{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:4px 0}dl.about dt{color:#4b5563}dl.about dd{margin:0}
.obs{margin:10px 0 16px}
.obs-grid{display:grid;grid-template-columns:minmax(320px,1.1fr) minmax(280px,1fr);gap:16px;align-items:start}
.ladder{border-left:3px solid var(--c);border-right:3px solid var(--s);padding:4px 0}
.lanes{display:flex;justify-content:space-between;font-weight:600;padding:0 8px 4px;border-bottom:1px dashed #d1d5db}
.step{position:relative;margin:6px 14px;padding:0 4px 2px}
.step .t{position:absolute;top:0;font-size:10px;color:#9ca3af}
.step.s-C{border-bottom:2px solid var(--c);margin-right:34px}.step.s-C .t{right:-30px}
.step.s-C::after{content:"\\25B6";position:absolute;right:-9px;bottom:-9px;font-size:12px;color:var(--c)}
.step.s-S{border-bottom:2px solid var(--s);margin-left:34px;text-align:right}.step.s-S .t{left:-30px}
.step.s-S::after{content:"\\25C0";position:absolute;left:-9px;bottom:-9px;font-size:12px;color:var(--s)}
.step.s-S pre{text-align:left;display:inline-block}
.step.s-note{margin-right:30%;color:#6b7280;font-style:italic;border-left:2px solid #d1d5db;padding-left:6px}
.step.s-tls{background:#fef3c7;border:1px dashed #d97706;text-align:center;padding:4px}
.log ol{margin:0;padding-left:22px}.log li{margin:2px 0}.log .evt{color:#6b7280;font-size:11px}
.muted{color:#6b7280}
.lv{display:inline-block;margin:1px;padding:0 5px;border-radius:3px;font:11px/1.5 ui-monospace,Menlo,Consolas,monospace}
.lv-good{background:#15803d;color:#fff}.lv-sufficient{background:#bbf7d0;color:#14532d}.lv-phase-out{background:#fde68a;color:#78350f}
.lv-insufficient{background:#b91c1c;color:#fff}.lv-unrated{background:#e5e7eb;color:#374151}
table.stacks td,table.stacks th[scope=row]{white-space:nowrap}
a.stack-cell{display:inline-block;padding:1px 8px;border-radius:3px;font-size:12px;text-decoration:none;color:#fff}
a.stack-cell.st-pass{background:var(--pass)}a.stack-cell.st-fail{background:var(--fail)}a.stack-cell.st-error{background:#ea580c}a.stack-cell.st-inconclusive{background:#9ca3af}
.bystack{display:inline-block;margin-left:4px;padding:0 5px;border:1px dashed #6b7280;border-radius:3px;font-size:11px;color:#374151}
`;

const SCRIPT = `(function () {
  var root = document.documentElement;
  var boxes = document.querySelectorAll('#filter input[data-filter]');
  for (var i = 0; i < boxes.length; i++) {
    boxes[i].addEventListener('change', function (ev) {
      root.classList.toggle('hide-' + ev.target.getAttribute('data-filter'), !ev.target.checked);
    });
  }
  function openFromHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    if (el && el.tagName === 'DETAILS') { el.open = true; el.scrollIntoView({ block: 'start' }); }
  }
  window.addEventListener('hashchange', openFromHash);
  openFromHash();
})();`;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');

/**
 * index.html: one self-contained page (inline CSS and script, nothing fetched: the page's own
 * Content-Security-Policy allows only its own two blocks, by hash, and no network at all), so it
 * works from file:// and as a CI artifact. A scenarios × checks matrix coloured by outcome and
 * filterable by status; per check, expected vs observed of each failing assertion and, per
 * observation, a ladder diagram of the SMTP dialogue beside the Postfix log lines of that
 * connection. Every text from the report is escaped by forHtml where it is written, so what a
 * server sent is shown as text (the CSP is the second line of defence, not the first).
 */
export function renderHtml(report: Report): string {
  const c = report.summary.checks;
  const csp = `default-src 'none'; style-src 'sha256-${sha256(CSS)}'; script-src 'sha256-${sha256(SCRIPT)}'; img-src data:; base-uri 'none'; form-action 'none'`;
  const counts: Record<CheckStatus, number> = { pass: c.pass, fail: c.fail, inconclusive: c.inconclusive, error: c.error };
  const matrix = stackMatrix(report);
  // With several stacks an id names several entries: each is named with its stack.
  const name = (s: ScenarioReport) => (matrix && s.stack ? `${s.id} [${s.stack.name}]` : s.id);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>smtp-tls-lab report ${h(report.run.id)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<header>',
    '<h1>smtp-tls-lab report</h1>',
    `<p class="verdict v-${report.summary.exitCode}">${VERDICT[report.summary.exitCode]} (exit ${report.summary.exitCode})</p>`,
    `<p class="meta">run <span class="mono">${h(report.run.id)}</span>, ${h(report.run.startedAt)}, ${(report.run.durationMs / 1000).toFixed(1)} s; ${report.scenarios.length} scenario(s), ${c.pass + c.fail + c.inconclusive + c.error} check(s): ${c.pass} pass, ${c.fail} fail, ${c.inconclusive} inconclusive, ${c.error} error; image <span class="mono">${h(report.run.postfixImage ?? 'none')}</span>, node ${h(report.run.node)}</p>`,
    '</header>',
    ...(report.infrastructureErrors.length ? ['<section id="infrastructure"><h2>Infrastructure errors</h2><ul>', ...report.infrastructureErrors.map((e) => `<li><pre>${h(e)}</pre></li>`), '</ul></section>'] : []),
    ...stackSection(matrix),
    '<section id="matrix">',
    '<h2>Scenarios × checks</h2>',
    `<fieldset id="filter"><legend>Show</legend>${STATUSES.map((s) => `<label><input type="checkbox" data-filter="${s}" checked> <span class="badge st-${s}">${s}</span> ${counts[s]}</label>`).join('')}</fieldset>`,
    '<table class="matrix"><tbody>',
    ...report.scenarios.map((s, i) => `<tr><th scope="row"><a href="#s-${i}">${h(name(s))}</a> <span class="badge st-${s.status}">${s.status}</span></th><td>${s.checks.map((ch, j) => `<a class="cell st-${ch.status}" href="#c-${i}-${j}" data-status="${ch.status}" title="${h(`${ch.id}: ${ch.status}: ${ch.message}`)}">${h(ch.id)}</a>`).join('')}</td></tr>`),
    '</tbody></table>',
    '</section>',
    ...report.scenarios.flatMap((s, i) => scenarioSection(s, i, name(s))),
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * Scenario × stack (a run over several stacks): per scenario and stack the entry's status and
 * checks passed/not passed, linking to its section, and how many of its checks were judged by
 * their stack's own byStack expectation (each named, with why, in the cell's title).
 */
function stackSection(m: StackMatrix | null): string[] {
  if (!m) return [];
  const versions = (stack: string) => {
    const s = m.rows.flatMap((r) => r.cells).find((c) => c && c.scenario.stack?.name === stack && c.scenario.stack.postfix)?.scenario.stack;
    // The version word only ("OpenSSL 3.5.9"); the whole line as the title.
    return s ? `<br><span class="muted" title="${h(s.openssl ?? '')}">Postfix ${h(s.postfix ?? '?')}, ${h((s.openssl ?? '?').replace(/^(\S+ \S+).*$/, '$1'))}</span>` : '';
  };
  return [
    '<section id="stacks">',
    '<h2>Scenarios × stacks</h2>',
    '<p class="muted">Each cell: the entry\'s status and checks passed / not passed. <span class="bystack">byStack N</span>: N of its checks were judged by that stack\'s own expectation (hover for which and why); every other check by the expectation as written.</p>',
    `<table class="grid stacks"><thead><tr><th>scenario</th>${m.stacks.map((st) => `<th>${h(st)}${versions(st)}</th>`).join('')}</tr></thead><tbody>`,
    ...m.rows.map(
      (r) =>
        `<tr><th scope="row">${h(r.id)}</th>${r.cells
          .map((c) => {
            if (!c) return '<td class="muted">not run</td>';
            const n = passCounts(c.scenario);
            const by = c.byStack.length ? `<span class="bystack" title="${h(c.byStack.map((b) => `${b.check}: ${b.why}`).join('\n'))}">byStack ${c.byStack.length}</span>` : '';
            return `<td><a class="stack-cell st-${c.scenario.status}" href="#s-${c.index}" data-status="${c.scenario.status}">${c.scenario.status} ${n.pass}/${n.notPass}</a>${by}</td>`;
          })
          .join('')}</tr>`,
    ),
    '</tbody></table>',
    '</section>',
  ];
}

function scenarioSection(s: ScenarioReport, i: number, name: string = s.id): string[] {
  const out = [
    `<section class="scenario" id="s-${i}">`,
    `<h2>${h(name)} <span class="badge st-${s.status}">${s.status}</span></h2>`,
    ...(s.stack?.postfix || s.stack?.openssl ? [`<p class="muted">stack ${h(s.stack.name)}: Postfix ${h(s.stack.postfix ?? '?')}, ${h(s.stack.openssl ?? '?')}</p>`] : []),
    `<p>${h(s.title)}${s.seeds.length ? ` <span class="muted">(seeds ${h(s.seeds.join(', '))})</span>` : ''}${s.startupMs === null ? '' : ` <span class="muted">Postfix ready in ${(s.startupMs / 1000).toFixed(1)} s</span>`}</p>`,
  ];
  // A scenario's summary: one paragraph for the catalogue, the overlay (one change a line) for `check`.
  if (s.summary) out.push(s.summary.includes('\n') ? `<pre class="mono">${h(s.summary)}</pre>` : `<p class="muted">${h(s.summary)}</p>`);
  if (s.error) out.push(`<p><span class="badge st-error">${h(s.error.code)}</span> ${h(s.error.message)}</p>`, ...(s.error.detail ? [`<pre>${h(s.error.detail)}</pre>`] : []));
  if (s.findings.length) {
    out.push('<h3>Postfix start-up warnings</h3><ul>', ...s.findings.map((f) => `<li>${f.expected ? '<span class="muted">expected by the scenario:</span> ' : '<strong>not expected by the scenario:</strong> '}<span class="mono">${h(f.text)}</span></li>`), '</ul>');
  }
  const rows = negotiatedRows(s);
  if (rows.length) {
    out.push('<h3>Negotiated TLS per port</h3>', '<table class="grid"><thead><tr><th>port</th><th>client</th><th>protocol</th><th>cipher</th><th>key exchange</th><th>checks</th></tr></thead><tbody>');
    for (const r of rows) out.push(`<tr><td>${r.port} (${h(r.mode)})</td><td>${h(r.client)}</td><td>${h(r.protocol)}</td><td class="mono">${h(r.cipher)}</td><td>${h(r.keyExchange)}</td><td>${h(r.checks.join(', '))}</td></tr>`);
    out.push('</tbody></table>');
  }
  out.push(...ratedGrid(s));
  if (s.mainCf !== null) out.push(`<details><summary>effective main.cf</summary><pre>${h(s.mainCf)}</pre></details>`);
  if (s.cleanupProblems.length) out.push('<h3>Cleanup problems</h3><ul>', ...s.cleanupProblems.map((p) => `<li>${h(p)}</li>`), '</ul>');
  out.push('<h3>Checks</h3>', ...s.checks.flatMap((c, j) => checkDetails(c, i, j)), '</section>');
  return out;
}

/** A profile rule's outcome as `check` records it in a check's tlsSurface (read defensively: the surface is free-form). */
interface RatedRule {
  readonly port: number;
  readonly profile: string;
  readonly title: string;
  readonly clause: string;
  readonly items: readonly { readonly item: string; readonly level: string; readonly ok: boolean }[];
  /** What was measured when the rule rates no list of items (a yes/no feature). */
  readonly observed: unknown;
  readonly status: string;
}

function ratedRules(s: ScenarioReport): RatedRule[] {
  const out: RatedRule[] = [];
  for (const c of s.checks) {
    const t = c.tlsSurface as { profile?: unknown; port?: unknown; outcome?: { title?: unknown; clause?: unknown; items?: unknown; observed?: unknown } } | undefined;
    if (!t || typeof t.profile !== 'string' || typeof t.port !== 'number' || !t.outcome || !Array.isArray(t.outcome.items)) continue;
    const items = (t.outcome.items as { item?: unknown; level?: unknown; ok?: unknown }[])
      .filter((x) => typeof x.item === 'string')
      .map((x) => ({ item: String(x.item), level: typeof x.level === 'string' ? x.level : 'unrated', ok: x.ok === true }));
    out.push({ port: t.port, profile: t.profile, title: String(t.outcome.title ?? c.title), clause: String(t.outcome.clause ?? ''), items, observed: t.outcome.observed ?? null, status: c.status });
  }
  return out;
}

/** Per port, what the server accepts (protocols, suites, groups …), each cell coloured by the profile's rating of it. */
function ratedGrid(s: ScenarioReport): string[] {
  const rules = ratedRules(s);
  if (rules.length === 0) return [];
  const level = (l: string) => (['good', 'sufficient', 'phase-out', 'insufficient'].includes(l) ? l : 'unrated');
  const out = ['<h3>Per port, rated by profile</h3>'];
  for (const port of [...new Set(rules.map((r) => r.port))].sort((a, b) => a - b)) {
    const mine = rules.filter((r) => r.port === port);
    out.push(`<h4>port ${port} <span class="muted">(${h(mine[0]!.profile)})</span></h4>`, '<table class="grid rated"><thead><tr><th>rule</th><th>verdict</th><th>what the server accepts, rated</th></tr></thead><tbody>');
    for (const r of mine) {
      const cells = r.items.length
        ? r.items.map((x) => `<span class="lv lv-${level(x.level)}" title="${h(x.level)}">${h(x.item)}</span>`).join('')
        : `<span class="mono">${h(short(JSON.stringify(r.observed) ?? 'null'))}</span>`;
      out.push(`<tr><td>${h(r.title)}<br><span class="muted">${h(r.clause)}</span></td><td><span class="badge st-${h(r.status)}">${h(r.status)}</span></td><td>${cells}</td></tr>`);
    }
    out.push('</tbody></table>');
  }
  out.push('<p class="muted">good · sufficient · phase-out · insufficient, as the profile rates each item.</p>');
  return out;
}

function checkDetails(c: CheckResult, i: number, j: number): string[] {
  const failing = c.assertions.filter((a) => !a.ok);
  const held = c.assertions.filter((a) => a.ok);
  const out = [
    `<details class="check st-${c.status}" id="c-${i}-${j}" data-status="${c.status}">`,
    `<summary><span class="badge st-${c.status}">${c.status}</span> <strong>${h(c.id)}</strong> <span class="muted">(${h(c.kind)})</span> ${h(short(c.message))}</summary>`,
    '<dl class="about">',
    `<dt>message</dt><dd>${h(c.message)}</dd>`,
    `<dt>title</dt><dd>${h(c.title)}</dd>`,
    ...(c.why ? [`<dt>why</dt><dd>${h(c.why)}</dd>`] : []),
    ...(c.configSays ? [`<dt>config says</dt><dd class="mono">${h(c.configSays)}</dd>`] : []),
    ...expectationLine(c),
    ...conversationsOf(c).map((v) => `<dt>who → whom</dt><dd class="conversation"><b>${h(conversationParties(v))}</b>: ${h(conversationOutcome(v))}${v.senderSays ? `<br>${h(v.sender.node)} says: <span class="mono">${h(v.senderSays)}</span>` : ''}${v.receiverSays ? `<br>${h(v.receiver.node)} says: <span class="mono">${h(v.receiverSays)}</span>` : ''}</dd>`),
    `<dt>took</dt><dd>${c.durationMs} ms</dd>`,
    '</dl>',
  ];
  if (c.error) out.push(`<p><span class="badge st-error">${h(c.error.code)}</span>${c.error.stage ? ` at ${h(c.error.stage)}` : ''}: ${h(c.error.message)}</p>`, ...(c.error.detail ? [`<pre>${h(c.error.detail)}</pre>`] : []));
  if (failing.length) out.push('<h4>Failing assertions: expected vs observed</h4>', assertionTable(failing, 'failing'));
  if (held.length) out.push(`<details><summary>${held.length} assertion(s) held</summary>${assertionTable(held, 'held')}</details>`);
  if (c.unjudged.length) out.push('<h4>Could not judge</h4><ul>', ...c.unjudged.map((u) => `<li>${h(u.subject)}: <span class="badge st-inconclusive">${h(u.error.code)}</span> ${h(u.error.message)}</li>`), '</ul>');
  if (c.notComparable.length) out.push('<h4>Not comparable (fewer than two clients observed a value)</h4><ul>', ...c.notComparable.map((n) => `<li class="mono">${h(n.path)}: ${h(n.observed.map((o) => `${o.client}=${showValue(o.value, 200)}`).join(', '))}</li>`), '</ul>');
  if (c.tlsSurface) out.push(...tlsSurface(c.tlsSurface));
  for (const o of c.observations) out.push(...observationView(o, c.logEvents));
  if (c.observations.length === 0 && c.logEvents.length) out.push('<div class="log"><h4>Postfix log</h4>', logList(c.logEvents), '</div>');
  out.push('</details>');
  return out;
}

/** Which expectation judged the check, when it has one per stack (byStack). */
function expectationLine(c: CheckResult): string[] {
  const e = expectationOf(c);
  if (!e) return [];
  return e.from === 'byStack'
    ? [`<dt>expectation</dt><dd><span class="bystack">byStack ${h(e.stack)}</span> ${h(e.keys.join(', '))} as on ${h(e.stack)}: ${h(e.why)}</dd>`]
    : [`<dt>expectation</dt><dd>as written (the check has its own expectation on ${h(e.byStack.join(', '))}, not on ${h(e.stack)})</dd>`];
}

/** The summary line's message: the start of it (the whole message is the first line of the details). */
function short(text: string, max = 140): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : text;
}

/** What probe found (enumeration: the accepted suites of one version, in the server's order when it has one) or the answer to a hand-built hello. */
function tlsSurface(surface: Readonly<Record<string, unknown>>): string[] {
  const e = surface.enumeration as { protocol?: unknown; accepted?: unknown; order?: unknown; connections?: unknown } | undefined;
  const out: string[] = [];
  if (e && Array.isArray(e.accepted)) {
    const order = e.order === 'server' ? "in the server's order" : e.order === 'client' ? "in the client's order (the server does not order)" : 'order not determined';
    out.push(`<h4>Accepted ${h(String(e.protocol))} suites found by probe: ${e.accepted.length}, ${order}${typeof e.connections === 'number' ? `, ${e.connections} connections` : ''}</h4>`);
    out.push(e.accepted.length ? `<ol class="mono">${e.accepted.map((x) => `<li>${h(String(x))}</li>`).join('')}</ol>` : '<p class="muted">none</p>');
  }
  // The applied expectation is shown with the check's about lines (expectationLine).
  const rest = Object.fromEntries(Object.entries(surface).filter(([k]) => !(k === 'enumeration' && out.length) && k !== 'expectation' && k !== 'conversation' && k !== 'conversations'));
  if (Object.keys(rest).length) out.push('<h4>TLS surface</h4>', `<pre>${h(JSON.stringify(rest, null, 1))}</pre>`);
  return out;
}

function assertionTable(list: CheckResult['assertions'], kind: string): string {
  const rows = list.map((a) => `<tr><td>${h(a.subject)}</td><td class="mono">${h(a.path)}</td><td><pre>${h(showValue(a.expected))}</pre></td><td><pre>${h(showValue(a.observed))}</pre></td></tr>`);
  return `<table class="grid assertions ${kind}"><thead><tr><th>subject</th><th>path</th><th>expected</th><th>observed</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function observationView(o: Observation, events: readonly LogEvent[]): string[] {
  const own = logEventsOf(o, events);
  const from = o.localAddress ? ` from ${o.localAddress}${o.localPort === null ? '' : `:${o.localPort}`}` : '';
  return [
    '<div class="obs">',
    `<h4>${h(o.client)} → ${h(o.target.host)}:${o.target.port} (${h(o.target.mode)})${h(from)}, ${o.durationMs} ms${o.error ? ` <span class="badge st-inconclusive">${h(o.error.code)}${o.error.stage ? ` at ${h(o.error.stage)}` : ''}</span>` : ''}</h4>`,
    '<div class="obs-grid">',
    ladder(o),
    `<div class="log"><h4>Postfix log${own.matched ? ' of this connection' : ' <span class="muted">(no line names this connection\'s port: all of the check\'s lines)</span>'}</h4>${own.events.length ? logList(own.events) : '<p class="muted">no log lines</p>'}</div>`,
    '</div>',
    '</div>',
  ];
}

function ladder(o: Observation): string {
  const steps = ladderSteps(o);
  const body = steps.map(step).join('');
  const none = steps.length === 0 ? '<p class="muted">no transcript</p>' : '';
  return `<div class="ladder" aria-label="SMTP dialogue of ${h(o.client)}"><div class="lanes"><span>client (${h(o.client)})</span><span>server</span></div>${body}${none}</div>`;
}

function step(s: LadderStep): string {
  const t = s.t === null ? '' : `<span class="t">${s.t} ms</span>`;
  switch (s.kind) {
    case 'C':
    case 'S':
      return `<div class="step s-${s.kind}">${t}<pre>${h(s.lines.join('\n'))}</pre></div>`;
    case 'tls':
      return `<div class="step s-tls"><strong>${h(s.lines[0] ?? '')}</strong>${s.lines.length > 1 ? `<br>${h(s.lines.slice(1).join('\n'))}` : ''}</div>`;
    case '*': {
      if (s.lines.length <= NOTE_LINES_SHOWN + 1) return `<div class="step s-note"><pre>${h(s.lines.join('\n'))}</pre></div>`;
      const shown = s.lines.slice(0, NOTE_LINES_SHOWN).join('\n');
      return `<div class="step s-note"><pre>${h(shown)}</pre><details><summary>${s.lines.length - NOTE_LINES_SHOWN} more line(s)</summary><pre>${h(s.lines.slice(NOTE_LINES_SHOWN).join('\n'))}</pre></details></div>`;
    }
  }
}

function logList(events: readonly LogEvent[]): string {
  return `<ol>${events.map((e) => `<li><span class="evt">${h(e.type)}</span> <span class="mono">${h(e.raw)}</span></li>`).join('')}</ol>`;
}
