import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { explainCommand, handshakeSummary } from '../../cli/explain-command.js';
import type { LabError } from '../../core/errors.js';
import { PROJECT_ROOT, SCENARIOS_DIR } from '../../engine/paths.js';
import { refusal } from '../refusal.js';

/** `explain ID`: the scenario's story, and with a report (the real runs of fixtures/diff/) what happened. */
const FIXTURES = path.join(PROJECT_ROOT, 'harness/tests/fixtures/diff');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-explain-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function explain(id: string, report: { file: string; given: boolean }, scenariosDir = SCENARIOS_DIR): { code: number; text: string } {
  const lines: string[] = [];
  const code = explainCommand({ id, scenariosDir, report, out: (l) => lines.push(l) });
  return { code, text: lines.join('\n') };
}

const noReport = { file: path.join(tmp, 'none', 'report.json'), given: false };

describe('explain without a report', () => {
  const { code, text } = explain('opportunistic-25', noReport);

  it('title, summary, seeds and ports', () => {
    expect(code).toBe(0);
    expect(text).toMatch(/^opportunistic-25: Opportunistic STARTTLS on port 25 with the internet.nl server settings$/m);
    expect(text).toMatch(/^ {2}Seed 000's smtpd settings: /m);
    expect(text).toMatch(/^Seeds:\n {2}000: the internet.nl STARTTLS how-to/m);
    expect(text).toMatch(/^Ports: smtp \(25\): 6 check\(s\)$/m);
  });

  it("the TLS settings of its main.cf, with their line numbers, and none of the others", () => {
    expect(text).toMatch(/^ +12 {2}smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1\.1$/m);
    expect(text).toMatch(/^ +\d+ {2}smtpd_tls_dh1024_param_file = \/usr\/share\/smtp-tls-lab\/dh\/ffdhe4096\.pem$/m);
    expect(text).toMatch(/^ +\d+ {2}tls_preempt_cipherlist = yes$/m);
    expect(text).not.toMatch(/^ +\d+ {2}#/m);
  });

  it('each check with its title and why; every break-it change with what it does and which checks fail', () => {
    const file = JSON.parse(fs.readFileSync(path.join(SCENARIOS_DIR, 'opportunistic-25/scenario.json'), 'utf8'));
    for (const c of file.checks) {
      expect(text).toContain(`  ${c.id}  [`);
      expect(text).toContain(`    ${c.title}`);
      expect(text).toContain(`    why: ${c.why}`);
    }
    expect(text).toMatch(/^ {2}1\. !TLSv1\.1 removed from smtpd_tls_protocols\n {5}main\.cf: replace "smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1\.1" with "smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1"\n {5}then these checks fail.*\n {7}- tls11-only-client-refused: /m);
    expect(text).toMatch(/^ {5}main\.cf: set smtpd_tls_received_header = no$/m);
    expect(text).toMatch(/^ {5}main\.cf: remove smtpd_tls_dh1024_param_file$/m);
  });

  it('master.cf services with their TLS -o lines', () => {
    const { text: sub } = explain('submission-587', noReport);
    expect(sub).toMatch(/^ +\d+ {2}5870 +inet .*smtpd\n +-o smtpd_tls_security_level=may\n +-o smtpd_sasl_auth_enable=yes\n +-o smtpd_tls_auth_only=yes$/m);
    expect(sub).not.toMatch(/-o syslog_name/);
    expect(sub).toMatch(/^ {5}master\.cf service 5870: -o smtpd_tls_auth_only=no$/m);
  });

  it('says where a report would come from when there is none', () => {
    expect(text).toMatch(/^No report at .*none\/report\.json: run `smtp-tls-lab run --scenario opportunistic-25`/m);
  });
});

describe('explain with a report', () => {
  const { code, text } = explain('opportunistic-25', { file: path.join(FIXTURES, 'head.json'), given: true });

  it("each check's verdict, every client's handshake, the transcript and Postfix's log lines", () => {
    expect(code).toBe(0);
    expect(text).toMatch(/^From the report .*head\.json \(run merged-/m);
    expect(text).toMatch(/^ {2}FAIL tls11-only-client-refused: /m);
    expect(text).toMatch(/^ {4}handshake: raw → port 25 \(starttls\): TLSv1\.1 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA; key exchange ECDH/m);
    expect(text).toMatch(/^ {4}handshake: openssl → port 25 \(starttls\): TLSv1\.1 /m);
    expect(text).toMatch(/^ {4}handshake: raw → port 25 \(starttls\): no TLS handshake \(the check stopped before it\); no AUTH before TLS$/m);
    expect(text).toMatch(/^ {4}transcript \(raw\):\n {6}\* connected to .*:25 from port \d+ \(starttls\)\n {6}S 220 mx\.lab\.test ESMTP Postfix/m);
    expect(text).toMatch(/^ {6}C STARTTLS$/m);
    expect(text).toMatch(/^ {4}Postfix logged:\n {6}.* postfix\/smtpd\[\d+\]: connect from /m);
    expect(text).toMatch(/^ {2}PASS default-handshake-tls13$/m);
  });

  it('the enumerated surface and the hand-built hello of an enumeration scenario', () => {
    const { text: cip } = explain('cipher-policy-seed000', { file: path.join(FIXTURES, 'head.json'), given: true });
    expect(cip).toMatch(/^ {4}enumerated TLSv1\.1: 10 suite\(s\) accepted/m);
    expect(cip).toMatch(/^ {4}hand-built hello answered: server-hello TLSv1\.2 .*CCM8$/m);
  });

  it('the default report is named as the latest; a report without the scenario says so', () => {
    const latest = path.join(tmp, 'reports', 'latest');
    fs.mkdirSync(latest, { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, 'base.json'), path.join(latest, 'report.json'));
    expect(explain('submission-587', { file: path.join(latest, 'report.json'), given: false }).text).toMatch(/^From the latest report .*reports\/latest\/report\.json/m);
    const r = explain('smtps-465', { file: path.join(latest, 'report.json'), given: false });
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/has no run of smtps-465: run `smtp-tls-lab run --scenario smtps-465`/);
  });

  it('server text is escaped for the terminal', () => {
    const r = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'base.json'), 'utf8'));
    const o = r.scenarios.find((s: { id: string }) => s.id === 'opportunistic-25').checks[0].observations[0];
    o.transcript[1].text = '220 evil \u001b[2J\u202e banner';
    const file = path.join(tmp, 'evil.json');
    fs.writeFileSync(file, JSON.stringify(r));
    const { text: evil } = explain('opportunistic-25', { file, given: true });
    expect(evil).toContain('S 220 evil \\x1b[2J\\u202e banner');
    expect(evil).not.toContain('\u001b');
    expect(evil).not.toContain('\u202e');
  });
});

describe('explain refuses', () => {

  it('an unknown id (listing the known ones), a broken scenario, a --report that is not a report', () => {
    const unknown = refusal(() => explain('no-such', noReport));
    expect(unknown.code).toBe('EUSAGE');
    expect(unknown.message).toMatch(/no such scenario: no-such \(known: .*opportunistic-25/);
    const dir = path.join(tmp, 'broken');
    fs.mkdirSync(path.join(dir, 'x'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'x/scenario.json'), '{}');
    expect(refusal(() => explain('x', noReport, dir)).code).toBe('ESCENARIO');
    const notReport = path.join(tmp, 'not-report.json');
    fs.writeFileSync(notReport, '{"schema":"smtp-tls-lab/probe@1"}');
    expect(refusal(() => explain('sni', { file: notReport, given: true })).message).toMatch(/not-report\.json is not a smtp-tls-lab report/);
    // The default report, when broken, is said and skipped: the story is still told.
    const told = explain('sni', { file: notReport, given: false });
    expect(told.code).toBe(0);
    expect(told.text).toMatch(/^The default report .*not-report\.json cannot be shown: /m);
  });

  it('handshakeSummary of a refused handshake names the error', () => {
    const r = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'base.json'), 'utf8'));
    const o = r.scenarios.find((s: { id: string }) => s.id === 'opportunistic-25').checks.find((c: { id: string }) => c.id === 'tls11-only-client-refused').observations[0];
    expect(handshakeSummary(o)).toMatch(/^raw → port 25 \(starttls\): no TLS: ETLS at handshake: /);
  });
});
