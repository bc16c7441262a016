import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { childRunEnv } from '../../engine/labels.js';

/**
 * `smtp-tls-lab check` as a user runs it: a whole CLI process on a config folder
 * (harness/tests/fixtures/check/, see its README), real Postfix, real handshakes, real probe.
 * One config at a time (2 cores). Asserted: the exit code, and exactly which checks (per-port
 * expectations and profile rules, by id) failed or could not judge, read from report.json.
 */
const CLI = path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs');
const FIXTURES = path.join(PROJECT_ROOT, 'harness/tests/fixtures/check');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-check-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface CheckRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  readonly out: string;
}

interface ReportCheck {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly message: string;
  readonly tlsSurface?: { readonly outcome?: { readonly clause: string; readonly measured: string; readonly level: string } };
}
interface ReportShape {
  readonly summary: { readonly exitCode: number };
  readonly scenarios: readonly { readonly summary: string; readonly error: { code: string; message: string } | null; readonly mainCf: string | null; readonly checks: readonly ReportCheck[] }[];
}

let runs = 0;
function check(args: readonly string[]): Promise<CheckRun> {
  const out = path.join(tmp, `run-${++runs}`);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // Its own run id (childRunEnv): with this test run's id, the child's end-of-run sweep would remove every container of this run.
    const child = spawn(process.execPath, [CLI, 'check', ...args, '--out', out], { env: childRunEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started, out }));
  });
}

const report = (r: CheckRun): ReportShape => JSON.parse(fs.readFileSync(path.join(r.out, 'latest', 'report.json'), 'utf8')) as ReportShape;
const withStatus = (r: CheckRun, status: string) => report(r).scenarios[0]!.checks.filter((c) => c.status === status).map((c) => c.id).sort();
const fixture = (name: string) => path.join(FIXTURES, name);

describe('check --postfix-config DIR', () => {
  it('three services with AUTH before STARTTLS on 587: exit 1, and exactly that rule fails, on 587 only; Let\'s Encrypt paths just work', async () => {
    const r = await check(['--postfix-config', fixture('three-services')]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(withStatus(r, 'fail')).toEqual(['587-auth-only-after-tls']);
    expect(withStatus(r, 'error')).toEqual([]);
    expect(withStatus(r, 'inconclusive')).toEqual([]);
    const checks = report(r).scenarios[0]!.checks;
    // Every service was found and judged: per-port expectations and all ten ncsc-nl rules on each.
    for (const port of ['25', '587', '465']) expect(checks.filter((c) => c.id.startsWith(`${port}-ncsc-nl-`)).length).toBe(10);
    expect(checks.map((c) => c.id)).toEqual(expect.arrayContaining(['25-starttls-offered', '25-tls-opportunistic', '587-tls-mandatory', '587-starttls-offered', '465-no-plaintext-greeting', '465-tls-handshake']));
    expect(checks.map((c) => c.id)).not.toContain('465-auth-only-after-tls');
    expect(checks.find((c) => c.id === '587-auth-only-after-tls')!.message).toMatch(/noneMatches.*\^AUTH.*"AUTH PLAIN LOGIN"/);
    // A rule says what it measured, its level and its clause.
    const versions = checks.find((c) => c.id === '25-ncsc-nl-tls-versions')!;
    expect(versions.tlsSurface?.outcome).toMatchObject({ clause: expect.stringMatching(/B1-1/), measured: expect.stringMatching(/accepted protocol versions/), level: 'sufficient' });
    // The overlay is printed and stored: the Let's Encrypt paths became lab files.
    expect(r.stdout).toMatch(/smtpd_tls_cert_file: \/etc\/letsencrypt\/live\/mx\.example\.org\/fullchain\.pem -> \/etc\/postfix\/lab\/tls\/fullchain\.crt/);
    expect(r.stdout).toMatch(/smtpd_sasl_type: dovecot -> cyrus/);
    expect(report(r).scenarios[0]!.summary).toMatch(/maillog_file: \/var\/log\/postfix\.log -> \(removed\)/);
    const overlay = JSON.parse(fs.readFileSync(path.join(r.out, 'latest', 'overlay.json'), 'utf8')) as { overlay: { parameter: string; from: string }[]; certificates: { name: string; key: string; sans: string[] }[] };
    expect(overlay.certificates).toEqual([expect.objectContaining({ name: 'fullchain', key: 'rsa-2048', sans: ['mx.example.org', 'mx.lab.test'] })]);
    expect(report(r).scenarios[0]!.mainCf).toMatch(/smtpd_tls_key_file = \/etc\/postfix\/lab\/tls\/fullchain\.key/);
    for (const f of ['report.json', 'junit.xml', 'summary.md', 'index.html', 'probe-25.json', 'probe-587.json', 'probe-465.json']) expect(fs.existsSync(path.join(r.out, 'latest', f)), f).toBe(true);
    expect(fs.readFileSync(path.join(r.out, 'latest', 'junit.xml'), 'utf8')).toMatch(/<testcase[^>]*name="587-auth-only-after-tls"[^>]*>\s*<failure/);
    console.log(`check three-services: whole process ${r.ms} ms`);
  }, 240_000);

  it('an MX that holds every ncsc-nl rule: exit 0; an RSA and an ECDSA certificate, ${config_directory} in a path', async () => {
    const r = await check(['--postfix-config', fixture('passing-mx')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(withStatus(r, 'pass').length).toBe(13);
    const overlay = JSON.parse(fs.readFileSync(path.join(r.out, 'latest', 'overlay.json'), 'utf8')) as { overlay: { parameter: string; from: string; to: string }[]; certificates: { key: string }[] };
    expect(overlay.certificates.map((c) => c.key)).toEqual(['rsa-2048', 'ec-p256']);
    expect(overlay.overlay.find((e) => e.parameter === 'smtpd_tls_dh1024_param_file')).toMatchObject({ from: '${config_directory}/dh/ffdhe4096.pem', to: '/usr/share/smtp-tls-lab/dh/ffdhe4096.pem' });
  }, 240_000);

  it('weak-tls under seed-000: exit 1, the how-to\'s floor, exclude list, ffdhe4096 and server preference fail; chain_files gives an RSA and an ECDSA certificate', async () => {
    const r = await check(['--postfix-config', fixture('weak-tls'), '--profile', 'seed-000']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(withStatus(r, 'fail')).toEqual(['25-seed-000-dh-ffdhe4096', '25-seed-000-exclude-list', '25-seed-000-protocol-floor', '25-seed-000-server-preference']);
    const overlay = JSON.parse(fs.readFileSync(path.join(r.out, 'latest', 'overlay.json'), 'utf8')) as { certificates: { name: string; key: string }[] };
    expect(overlay.certificates.map((c) => [c.name, c.key])).toEqual([['mail-rsa', 'rsa-2048'], ['mail-ecdsa', 'ec-p256']]);
  }, 240_000);

  it('check --stack trixie: the same config on trixie\'s Postfix 3.10 / OpenSSL 3.5, whose versions the report reads from the container', async () => {
    const r = await check(['--postfix-config', fixture('weak-tls'), '--profile', 'seed-000', '--stack', 'trixie']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const stack = (report(r).scenarios[0] as unknown as { stack: { name: string; postfix: string; openssl: string } }).stack;
    expect(stack.name).toBe('trixie');
    expect(stack.postfix).toMatch(/^3\.10\./);
    expect(stack.openssl).toMatch(/^OpenSSL 3\.5\./);
    // What seed 002's "!SSLv2, !SSLv3" leaves on: TLS 1.0 and 1.1 still accepted on OpenSSL 3.5, as on 3.0.
    expect(withStatus(r, 'fail')).toEqual(['25-seed-000-dh-ffdhe4096', '25-seed-000-exclude-list', '25-seed-000-protocol-floor', '25-seed-000-server-preference']);
  }, 240_000);

  it('a map the folder lacks: exit 2, named with the parameter that wants it, and every other check still gives a verdict', async () => {
    const r = await check(['--postfix-config', fixture('missing-map')]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const checks = report(r).scenarios[0]!.checks;
    const input = checks.filter((c) => c.status === 'error' || c.status === 'inconclusive');
    expect(input.map((c) => c.id)).toEqual(['input-1-smtpd-sender-restrictions']);
    expect(input[0]!.message).toMatch(/smtpd_sender_restrictions \(main\.cf, line 7\) names hash:\/etc\/postfix\/sender_access, but .*missing-map\/sender_access does not exist/);
    expect(checks.filter((c) => c.status === 'pass' || c.status === 'fail').length).toBe(13);
    expect(r.stderr).toMatch(/smtpd_sender_restrictions/);
  }, 240_000);

  it('one service with a setting its smtpd dies on: that service is an error, the other is still judged', async () => {
    const r = await check(['--postfix-config', fixture('one-broken-service')]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const checks = report(r).scenarios[0]!.checks;
    expect(checks.filter((c) => c.id.startsWith('587-')).every((c) => c.status === 'error')).toBe(true);
    expect(checks.find((c) => c.id === '587-tls-handshake')!.message).toMatch(/EPOSTFIX_CHECK: Postfix logged "fatal: Invalid TLS level "bogus"" for submission/);
    const on25 = checks.filter((c) => c.id.startsWith('25-'));
    expect(on25.length).toBe(13);
    expect(on25.every((c) => c.status === 'pass' || c.status === 'fail')).toBe(true);
  }, 240_000);

  it('a main.cf Postfix refuses: exit 2 with Postfix\'s own words and the user\'s line', async () => {
    const r = await check(['--postfix-config', fixture('postfix-refuses')]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const s = report(r).scenarios[0]!;
    expect(s.error?.code).toBe('EPOSTFIX_CHECK');
    expect(s.error?.message).toMatch(/postconf: fatal: \/etc\/postfix\/main\.cf, line \d+: missing '=' after attribute name: "smtpd_tls_security_level may"/);
    expect(s.error?.message).toMatch(/your main\.cf, line 4: smtpd_tls_security_level may/);
    expect(s.checks.every((c) => c.status === 'error')).toBe(true);
  }, 240_000);

  it('a folder without main.cf, and an unknown profile: exit 2 before anything starts, naming what was looked for', async () => {
    const none = await check(['--postfix-config', fixture('no-main-cf')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/EUSAGE: check: no main\.cf in .*no-main-cf \(looked for .*no-main-cf\/main\.cf\)/);
    expect(none.stderr).toMatch(/it holds: master\.cf/);
    expect(fs.existsSync(path.join(none.out, 'latest'))).toBe(false);
    const unknown = await check(['--postfix-config', fixture('three-services'), '--profile', 'nist']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown profile 'nist' \(known: mozilla-intermediate, mozilla-modern, ncsc-nl, seed-000\)/);
    const missing = await check([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--postfix-config DIR is required/);
  }, 120_000);
});
