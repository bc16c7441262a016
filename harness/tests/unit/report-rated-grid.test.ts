/**
 * index.html's per-port grid rated by profile: every item a profile rule rated is one cell
 * coloured by its level, server text escaped. The model is the real-run fixture with one
 * check given the tlsSurface that `check` records for a profile rule.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { renderHtml } from '../../report/render-html.js';
import type { Report } from '../../report/types.js';

const real = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'harness/tests/fixtures/report/real-run/report.json'), 'utf8')) as Report;

function withRule(items: { item: string; level: string; ok: boolean }[], observed: unknown = null): Report {
  const s = real.scenarios[0]!;
  const rule = {
    ...s.checks[0]!,
    id: '25-ncsc-nl-tls-versions',
    status: 'fail' as const,
    tlsSurface: { profile: 'ncsc-nl', service: 'smtp', port: 25, rule: { id: 'tls-versions' }, outcome: { title: 'TLS versions', clause: 'NCSC-NL TLS v2.1, B1-1', observed, items } },
  };
  return { ...real, scenarios: [{ ...s, checks: [rule, ...s.checks] }, ...real.scenarios.slice(1)] };
}

describe('index.html: per port, rated by profile', () => {
  it('one cell per rated item, coloured by its level', () => {
    const html = renderHtml(withRule([{ item: 'TLSv1.3', level: 'good', ok: true }, { item: 'TLSv1.1', level: 'phase-out', ok: false }, { item: 'SSLv3', level: 'insufficient', ok: false }]));
    expect(html).toContain('<h3>Per port, rated by profile</h3>');
    expect(html).toMatch(/<h4>port 25 <span class="muted">\(ncsc-nl\)<\/span><\/h4>/);
    expect(html).toContain('<span class="lv lv-good" title="good">TLSv1.3</span>');
    expect(html).toContain('<span class="lv lv-phase-out" title="phase-out">TLSv1.1</span>');
    expect(html).toContain('<span class="lv lv-insufficient" title="insufficient">SSLv3</span>');
  });

  it('item text is escaped, an unknown level is unrated, a yes/no rule shows what was measured', () => {
    const html = renderHtml(withRule([{ item: '<script>x()</script>', level: 'weird', ok: false }]));
    expect(html).not.toContain('<script>x()</script>');
    expect(html).toContain('<span class="lv lv-unrated" title="weird">&lt;script&gt;x()&lt;/script&gt;</span>');
    expect(renderHtml(withRule([], false))).toMatch(/<td><span class="mono">false<\/span><\/td>/);
  });

  it('a run without profile rules has no such grid', () => {
    expect(renderHtml(real)).not.toContain('Per port, rated by profile');
  });
});
