import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LabError } from '../../core/errors.js';
import { readReport, reportErrors } from '../../diff/read-report.js';
import { diffReports, type Change, type ReportDiff } from '../../diff/report-diff.js';
import { mdCell, renderDiffMarkdown } from '../../diff/render-md.js';
import { renderDiffText } from '../../diff/render-text.js';
import { PROJECT_ROOT } from '../../engine/paths.js';
import type { Report } from '../../report/types.js';

/**
 * `diff` on two real runs (harness/tests/fixtures/diff/README.md): BASE the catalogue's
 * opportunistic-25, submission-587 and cipher-policy-seed000; HEAD the same three weakened
 * (TLS 1.1 and CCM8 allowed, the ffdhe4096 file removed, AUTH before STARTTLS on 5870).
 */
const FIXTURES = path.join(PROJECT_ROOT, 'harness/tests/fixtures/diff');
const BASE = path.join(FIXTURES, 'base.json');
const HEAD = path.join(FIXTURES, 'head.json');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-diff-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const load = (file: string) => readReport(file);
const edited = (file: string, edit: (r: { -readonly [K in keyof Report]: any }) => void): string => {
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(r);
  const out = path.join(tmp, `edited-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(out, JSON.stringify(r));
  return out;
};
const listed = (d: ReportDiff) => d.scenarios.flatMap((s) => s.changes).filter((c) => c.kind !== 'info');
const pick = (d: ReportDiff, check: string, aspect: Change['aspect']) => listed(d).filter((c) => c.check === check && c.aspect === aspect);

describe('diff of a run and its weakened twin', () => {
  const d = diffReports(load(BASE), load(HEAD));

  it('the fixtures are real reports of the schema (else every assertion below means nothing)', () => {
    for (const f of [BASE, HEAD]) expect(reportErrors(JSON.parse(fs.readFileSync(f, 'utf8')))).toEqual([]);
  });

  it('every failing check is a verdict regression, and the exit code is 1', () => {
    const verdicts = listed(d).filter((c) => c.aspect === 'verdict');
    expect(verdicts.map((c) => [c.scenario, c.check, c.before, c.after, c.kind]).sort()).toEqual(
      [
        ['cipher-policy-seed000', 'ccm8-refused', 'pass', 'fail', 'regression'],
        ['cipher-policy-seed000', 'tls11-accepts-nothing', 'pass', 'fail', 'regression'],
        ['cipher-policy-seed000', 'tls12-accepted-set', 'pass', 'fail', 'regression'],
        ['opportunistic-25', 'dhe-client-gets-4096-bit-group', 'pass', 'fail', 'regression'],
        ['opportunistic-25', 'tls11-only-client-refused', 'pass', 'fail', 'regression'],
        ['submission-587', 'auth-hidden-before-starttls', 'pass', 'fail', 'regression'],
      ].sort(),
    );
    expect(d.exitCode).toBe(1);
    expect(d.counts.regression).toBe(11);
    expect(d.counts.improvement).toBe(0);
  });

  it('TLS 1.1 now negotiated on port 25, by all three clients, as one change', () => {
    expect(pick(d, 'tls11-only-client-refused', 'protocol')).toEqual([
      expect.objectContaining({ port: '25', clients: ['raw', 'nodemailer', 'openssl'], before: 'no TLS (ETLS at handshake)', after: 'TLSv1.1', kind: 'regression' }),
    ]);
  });

  it('the DHE group shrinks from 4096 to 2048 bits', () => {
    const [g] = pick(d, 'dhe-client-gets-4096-bit-group', 'group');
    expect(g).toMatchObject({ port: '25', kind: 'regression' });
    expect(g!.before).toMatch(/^DH .*4096 bits$/);
    expect(g!.after).toMatch(/^DH .*2048 bits$/);
  });

  it('AUTH before TLS on port 5870 only', () => {
    const auth = listed(d).filter((c) => c.aspect === 'auth-before-tls');
    expect(auth).toEqual([expect.objectContaining({ port: '5870', check: 'auth-hidden-before-starttls', before: 'not offered', after: 'offered (AUTH PLAIN LOGIN)', kind: 'regression' })]);
  });

  it('the enumerated surface grew: CCM8 at TLS 1.2, and TLS 1.1 accepted at all', () => {
    const [tls12] = pick(d, 'tls12-accepted-set', 'suites-accepted');
    expect(tls12!.kind).toBe('regression');
    for (const s of ['AES128-CCM8', 'AES256-CCM8', 'DHE-RSA-AES128-CCM8', 'DHE-RSA-AES256-CCM8']) expect(tls12!.after).toContain(s);
    const [tls11] = pick(d, 'tls11-accepts-nothing', 'suites-accepted');
    expect(tls11).toMatchObject({ before: 'TLSv1.1: 0 accepted', kind: 'regression', why: 'TLSv1.1 is now accepted at all' });
    // No order is compared where one run accepted nothing.
    expect(pick(d, 'tls11-accepts-nothing', 'suite-order')).toEqual([]);
    expect(pick(d, 'ccm8-refused', 'hello')[0]).toMatchObject({ before: 'alert handshake_failure', after: expect.stringMatching(/^server-hello TLSv1.2 .*CCM8/) });
  });

  it('fresh lab certificates are info, never a listed change; nothing else differs on passing checks', () => {
    expect(d.counts.info).toBeGreaterThan(0);
    const unexpected = listed(d).filter((c) => !['verdict', 'protocol', 'group', 'auth-before-tls', 'suites-accepted', 'hello'].includes(c.aspect));
    expect(unexpected).toEqual([]);
  });

  it('the record is frozen', () => {
    expect(Object.isFrozen(d)).toBe(true);
    expect(Object.isFrozen(d.scenarios[0]!.changes)).toBe(true);
  });
});

describe('the other direction and no change', () => {
  it('HEAD → BASE: every regression is an improvement, exit 0', () => {
    const back = diffReports(load(HEAD), load(BASE));
    expect(back.exitCode).toBe(0);
    expect(back.counts.regression).toBe(0);
    expect(back.counts.improvement).toBe(11);
    expect(pick(back, 'tls11-only-client-refused', 'protocol')[0]).toMatchObject({ before: 'TLSv1.1', after: 'no TLS (ETLS at handshake)', kind: 'improvement' });
    expect(pick(back, 'tls12-accepted-set', 'suites-refused')[0]!.kind).toBe('improvement');
  });

  it('a report against itself: no change at all, exit 0', () => {
    const same = diffReports(load(BASE), load(BASE));
    expect(same.scenarios.flatMap((s) => s.changes)).toEqual([]);
    expect(same.exitCode).toBe(0);
    expect(renderDiffText(same)).toMatch(/^3 scenario\(s\) without change/m);
    expect(renderDiffMarkdown(same)).toContain('No change.');
  });

  it('a scenario only one run has, and an error in HEAD: changes, not regressions', () => {
    const head = edited(BASE, (r) => {
      r.scenarios = r.scenarios.filter((s: { id: string }) => s.id !== 'submission-587');
      const c = r.scenarios.find((s: { id: string }) => s.id === 'opportunistic-25').checks[0];
      c.status = 'error';
      c.error = { code: 'ETOOL', stage: null, message: 'openssl missing' };
    });
    const d = diffReports(load(BASE), load(head));
    expect(d.exitCode).toBe(0);
    expect(listed(d).filter((c) => c.aspect === 'scenario')).toEqual([expect.objectContaining({ scenario: 'submission-587', before: 'pass', after: 'absent', kind: 'change' })]);
    expect(pick(d, 'starttls-advertised', 'verdict')[0]).toMatchObject({ before: 'pass', after: 'error', kind: 'change' });
  });

  it('a cipher that loses forward secrecy, a certificate that no longer verifies', () => {
    const head = edited(BASE, (r) => {
      const o = r.scenarios.find((s: { id: string }) => s.id === 'opportunistic-25').checks.find((c: { id: string }) => c.id === 'default-handshake-tls13').observations[0];
      o.tls.cipher = { openssl: 'AES256-SHA', iana: 'TLS_RSA_WITH_AES_256_CBC_SHA', bits: 256 };
      o.tls.verification = { verified: false, chainError: 'CERT_HAS_EXPIRED', name: 'mx.lab.test', nameError: null };
    });
    const d = diffReports(load(BASE), load(head));
    expect(pick(d, 'default-handshake-tls13', 'cipher')[0]).toMatchObject({ clients: ['raw'], before: 'TLS_AES_256_GCM_SHA384', after: 'TLS_RSA_WITH_AES_256_CBC_SHA', kind: 'regression' });
    expect(pick(d, 'default-handshake-tls13', 'verification')[0]).toMatchObject({ before: 'verified', after: 'not verified (CERT_HAS_EXPIRED)', kind: 'regression' });
    expect(d.exitCode).toBe(1);
  });
});

describe('renderers', () => {
  const d = diffReports(load(BASE), load(HEAD));

  it('text: regressions marked, grouped by scenario and port, totals', () => {
    const text = renderDiffText(d);
    expect(text).toMatch(/^scenario opportunistic-25 \(pass → fail\)\n {2}port 25\n {4}REGRESSION {3}tls11-only-client-refused {2}verdict: pass → fail/m);
    expect(text).toMatch(/^ {2}port 5870\n {4}REGRESSION {3}auth-hidden-before-starttls {2}verdict/m);
    expect(text).toMatch(/^11 regression\(s\), 0 improvement\(s\), 1 other change\(s\); \d+ fresh certificate fingerprint\(s\) not listed$/m);
  });

  it('markdown: one table row per listed change, regressions in bold', () => {
    const md = renderDiffMarkdown(d);
    const rows = md.split('\n').filter((l) => l.startsWith('| 🔴') || l.startsWith('| 🟢') || l.startsWith('| ⚪'));
    expect(rows).toHaveLength(listed(d).length);
    expect(md).toContain('**11 regression(s)**');
    expect(md).toMatch(/\| 🔴 \*\*regression\*\* \| submission-587 \| 5870 \| auth-hidden-before-starttls \| raw \| auth-before-tls \| not offered \| offered \(AUTH PLAIN LOGIN\) \|/);
  });

  it('server text is escaped: no raw markup or pipe in a markdown cell, no control character on the terminal', () => {
    expect(mdCell('a|b <script>x</script> `c` *d*')).toBe('a\\|b &lt;script&gt;x&lt;/script&gt; &#96;c&#96; \\*d\\*');
    const head = edited(BASE, (r) => {
      const o = r.scenarios.find((s: { id: string }) => s.id === 'opportunistic-25').checks.find((c: { id: string }) => c.id === 'default-handshake-tls13').observations[0];
      o.tls.peerCertificate.subject = 'CN=evil|<img src=x>\u001b[31m';
    });
    const d2 = diffReports(load(BASE), load(head));
    expect(renderDiffMarkdown(d2)).toContain('CN=evil\\|&lt;img src=x&gt;\\x1b[31m');
    const text = renderDiffText(d2);
    expect(text).toContain('CN=evil|<img src=x>\\x1b[31m');
    expect(text).not.toContain('\u001b');
  });
});

describe('a file that is not a report is refused, naming the file and why', () => {
  const refusal = (file: string): LabError => {
    try {
      readReport(file);
    } catch (err) {
      return err as LabError;
    }
    throw new Error(`${file} was read as a report`);
  };

  it('missing, not JSON, another schema, not matching the JSON Schema', () => {
    const missing = refusal(path.join(tmp, 'nope.json'));
    expect(missing.code).toBe('EUSAGE');
    expect(missing.message).toMatch(/nope\.json is not a smtp-tls-lab report: it cannot be read \(ENOENT\)/);
    const notJson = path.join(tmp, 'not.json');
    fs.writeFileSync(notJson, '<html>');
    expect(refusal(notJson).message).toMatch(/not\.json is not a smtp-tls-lab report: it is not JSON/);
    const probe = path.join(tmp, 'probe.json');
    fs.writeFileSync(probe, JSON.stringify({ schema: 'smtp-tls-lab/probe@1' }));
    expect(refusal(probe).message).toMatch(/probe\.json is not a smtp-tls-lab report: its schema is "smtp-tls-lab\/probe@1", not "smtp-tls-lab\/report@1"/);
    const bad = edited(BASE, (r) => {
      r.scenarios[0].checks[0].status = 'maybe';
    });
    const e = refusal(bad);
    expect(e.message).toMatch(/is not a smtp-tls-lab report: it does not match the report schema: scenarios\[0\]\.checks\[0\]\.status: expected one of/);
    const array = path.join(tmp, 'array.json');
    fs.writeFileSync(array, '[]');
    expect(refusal(array).message).toMatch(/the top level is not a JSON object/);
  });
});
