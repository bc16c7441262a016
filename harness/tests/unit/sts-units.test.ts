/**
 * The MTA-STS / TLS-RPT lab's readers, on captured real input: libtlsrpt datagrams (golden
 * files, harness/tests/golden/tlsrpt-datagram), Postfix 3.10's TLSRPT lines (tlsrpt_wrapper.c's
 * format strings), the policy host's fetch lines, the policy file the host serves, and the
 * scenario blocks that describe the policy host.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, SCENARIOS_DIR } from '../../engine/paths.js';
import { parseLogLine } from '../../postfix/log-parser.js';
import { decodeTlsrptDatagram } from '../../sts/tlsrpt-datagram.js';
import { parsePolicyFetch, renderSites } from '../../sts/policy-container.js';
import { renderPolicy } from '../../sts/policy-spec.js';
import { loadScenario } from '../../scenario/load.js';
import { tlsrptAgreement } from '../../checks/kinds/delivery/sts.js';
import { expectGolden } from '../golden-file.js';
import { rfc8460Reports } from '../../sts/rfc8460-report.js';

const dir = path.join(PROJECT_ROOT, 'harness/tests/golden/tlsrpt-datagram');
const datagrams = fs.readdirSync(dir).filter((f) => f.endsWith('.datagram'));

describe('libtlsrpt datagrams, decoded (golden files)', () => {
  it('has golden datagrams', () => expect(datagrams.length).toBeGreaterThanOrEqual(3));
  for (const file of datagrams) {
    it(file, () => expectGolden(path.join(dir, file.replace(/\.datagram$/, '.json')), decodeTlsrptDatagram(fs.readFileSync(path.join(dir, file)))));
  }

  it('reads an sts success: policy type 2, final 0, the resolver\'s policy strings', () => {
    const d = decodeTlsrptDatagram(fs.readFileSync(path.join(dir, 'sts-enforce-valid--enforce-policy-verified.datagram')));
    expect(d).toMatchObject({ domain: 'good.sts.lab.test', policyType: 'sts', result: 'success', failureCount: 0, failureType: null, mxHostPatterns: ['mx.good.sts.lab.test'], problem: null });
    expect(d.policyStrings).toContain('mode: enforce');
  });

  it('reads a captured sts failure and agrees with the TLSRPT line Postfix logged for it', () => {
    const d = decodeTlsrptDatagram(fs.readFileSync(path.join(dir, 'sts-vs-dane--sts-and-dane.datagram')));
    expect(d).toMatchObject({ policyType: 'sts', result: 'failure', failureCount: 1, failureType: 'validation-failure', failures: [{ resultType: 'validation-failure', failureReasonCode: 'self-signed_certificate' }] });
    const logText = fs.readFileSync(path.join(PROJECT_ROOT, 'harness/tests/golden/postfix-log/sts-vs-dane-sender-postfix-3.10.log'), 'utf8');
    const line = logText.split('\n').map((l) => parseLogLine(l)).find((e) => e.type === 'tlsrpt' && e.status === 'failure');
    expect(line).toBeDefined();
    if (line?.type !== 'tlsrpt') return;
    const view = { status: line.status, domain: line.domain, receivingMx: line.receivingMx.name, failureType: line.failureType, failureReason: line.failureReason };
    expect(tlsrptAgreement({ datagrams: [d], log: [view] }).map((a) => a.ok)).toEqual([true, true]);
  });

  it('maps failure details by libtlsrpt\'s keys (c, s, n, h, r, a, f) and RFC 8460 names', () => {
    const raw = '{"d": "x.test","pr": "v=TLSRPTv1; rua=mailto:r@x.test","policies":[{"policy-type":2,"policy-domain": "x.test","failure-details":[{"c":202,"s":"10.0.0.10","n":"mx.x.test","r":"10.0.0.1"}],"t":1,"f":1}]}';
    expect(decodeTlsrptDatagram(Buffer.from(raw))).toMatchObject({
      result: 'failure',
      failureCount: 1,
      failureType: 'certificate-host-mismatch',
      failures: [{ resultType: 'certificate-host-mismatch', sendingMtaIp: '10.0.0.10', receivingMxHostname: 'mx.x.test', receivingIp: '10.0.0.1', receivingMxHelo: null }],
    });
  });

  it('keeps a datagram it cannot read, saying why, instead of throwing', () => {
    expect(decodeTlsrptDatagram(Buffer.from('{"d": "x.test",'))).toMatchObject({ problem: expect.stringMatching(/^not JSON/), domain: null, raw: '{"d": "x.test",' });
    expect(decodeTlsrptDatagram(Buffer.from('{"d": "x.test"}'))).toMatchObject({ problem: 'no "policies" list' });
  });
});

describe("Postfix 3.10's TLSRPT lines (tlsrpt_wrapper.c format strings)", () => {
  it('success: "TLSRPT: status=success, domain=%s, receiving_mx=%s[%s]" (a captured line)', () => {
    const e = parseLogLine('Dec 03 11:20:44 sender postfix/smtp[230]: TLSRPT: status=success, domain=good.sts.lab.test, receiving_mx=mx.good.sts.lab.test[10.213.129.1]');
    expect(e).toMatchObject({ type: 'tlsrpt', status: 'success', domain: 'good.sts.lab.test', receivingMx: { name: 'mx.good.sts.lab.test', addr: '10.213.129.1', port: null }, failureType: null, failureReason: null });
  });
  it('failure with and without failure_reason (built from the format string)', () => {
    const base = 'Dec 03 11:20:44 sender postfix/smtp[230]: TLSRPT: status=failure, domain=x.test, receiving_mx=mx.x.test[10.0.0.1], failure_type=certificate_host_mismatch';
    expect(parseLogLine(base)).toMatchObject({ type: 'tlsrpt', status: 'failure', failureType: 'certificate_host_mismatch', failureReason: null });
    expect(parseLogLine(`${base}, failure_reason=num=62:hostname mismatch`)).toMatchObject({ failureType: 'certificate_host_mismatch', failureReason: 'num=62:hostname mismatch' });
  });
  it('the agreement rule: one datagram per line, same result, domain and failure type (underscores vs hyphens)', () => {
    const d = decodeTlsrptDatagram(Buffer.from('{"d": "x.test","policies":[{"policy-type":2,"failure-details":[{"c":202}],"t":1,"f":1}]}'));
    const line = { status: 'failure', domain: 'x.test', receivingMx: 'mx.x.test[10.0.0.1]', failureType: 'certificate_host_mismatch', failureReason: null };
    expect(tlsrptAgreement({ datagrams: [d], log: [line] }).every((a) => a.ok)).toBe(true);
    expect(tlsrptAgreement({ datagrams: [d], log: [{ ...line, failureType: 'starttls_not_supported' }] }).some((a) => !a.ok)).toBe(true);
    expect(tlsrptAgreement({ datagrams: [], log: [line] }).some((a) => !a.ok)).toBe(true);
  });
});

describe('policy host', () => {
  it('serves the policy file as RFC 8461 writes it (CRLF)', () => {
    expect(renderPolicy({ kind: 'policy', mode: 'enforce', mx: ['mx.a.test', '*.b.test'], maxAge: 600 })).toBe('version: STSv1\r\nmode: enforce\r\nmx: mx.a.test\r\nmx: *.b.test\r\nmax_age: 600\r\n');
  });
  it('reads its own fetch lines', () => {
    expect(parsePolicyFetch('lab-sts-policy: fetch host=mta-sts.good.sts.lab.test sni=mta-sts.good.sts.lab.test path=/.well-known/mta-sts.txt status=200 bytes=80')).toEqual({ host: 'mta-sts.good.sts.lab.test', sni: 'mta-sts.good.sts.lab.test', path: '/.well-known/mta-sts.txt', status: 200 });
    expect(parsePolicyFetch('lab-sts-policy: fetch host=mta-sts.a.test sni=None path=/ status=reset')).toMatchObject({ sni: null, status: 'reset' });
    expect(parsePolicyFetch('lab-sts-policy: ready sites=x')).toBeNull();
  });
  it("renders a scenario's sites: a redirect is a 301 with Location, a reset has no answer", () => {
    const sites = JSON.parse(renderSites({ sites: [
      { domain: 'r.test', certificate: 'w', answer: { kind: 'redirect', location: 'https://mta-sts.other.test/.well-known/mta-sts.txt' } },
      { domain: 'z.test', certificate: 'w', answer: { kind: 'reset' } },
    ] })) as Record<string, { status?: number; headers?: Record<string, string>; reset?: boolean; cert: string }>;
    expect(sites['mta-sts.r.test']).toMatchObject({ status: 301, headers: { Location: 'https://mta-sts.other.test/.well-known/mta-sts.txt' }, cert: '/etc/lab-sts-policy/tls/sts-web-w.crt' });
    expect(sites['mta-sts.z.test']).toMatchObject({ reset: true });
  });
  it('the sts scenarios load: their policy host blocks, stsQueries and tlsrpt keys are read', () => {
    const s = loadScenario(path.join(SCENARIOS_DIR, 'sts-enforce-mx-mismatch'));
    const host = s.nodes.find((n) => n.kind === 'sts-policy')!;
    expect(host.sts!.sites.map((x) => x.domain)).toEqual(['mismatch.sts.lab.test', 'good.sts.lab.test']);
    expect(host.sts!.sites[0]!.answer).toEqual({ kind: 'policy', mode: 'enforce', mx: ['mx.elsewhere.sts.lab.test'], maxAge: 86400 });
  });
});

describe('RFC 8460 aggregate report from the captured datagrams', () => {
  it('one report per domain, sessions counted per policy, failures by their details (golden)', () => {
    const read = (f: string) => decodeTlsrptDatagram(fs.readFileSync(path.join(dir, f)));
    const dgs = [read('sts-vs-dane--sts-and-dane.datagram'), read('sts-vs-dane--sts-and-dane.datagram'), read('sts-vs-dane--dane-only.datagram'), read('sts-enforce-valid--enforce-policy-verified.datagram')];
    const reports = rfc8460Reports(dgs, { start: new Date('2026-12-03T00:00:00Z'), end: new Date('2026-12-04T00:00:00Z') }, (d) => `2026-12-03_${d}`);
    expect(reports.map((r) => r['report-id'])).toEqual(['2026-12-03_both.sts.lab.test', '2026-12-03_daneonly.sts.lab.test', '2026-12-03_good.sts.lab.test']);
    expect(reports[0]!.policies[0]!.summary).toEqual({ 'total-successful-session-count': 0, 'total-failure-session-count': 2 });
    expect(reports[0]!.policies[0]!['failure-details']).toEqual([{ 'result-type': 'validation-failure', 'receiving-mx-hostname': 'mx.both.sts.lab.test', 'receiving-ip': expect.any(String), 'receiving-mx-helo': expect.stringMatching(/^250-mx-peer Nice to meet you, .*\r\n250 SIZE 4194304$/s), 'failure-reason-code': 'self-signed_certificate', 'sending-mta-ip': expect.any(String), 'failed-session-count': 2 }]);
    expectGolden(path.join(dir, 'rfc8460-report.json'), reports);
  });
});
