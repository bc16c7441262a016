import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../../scenario/load.js';
import { gnutlsPriority, gnutlsTranscriptLines } from '../../clients/gnutls.js';
import type { ClientHandshakeCheck } from '../../checks/kinds/client-handshake/spec.js';
import type { LabError } from '../../core/errors.js';

/**
 * The gnutls client and clientStack as a scenario file gives them: what the loader accepts,
 * and what it refuses when the file loads (with the file, the field and a remedy), so that no
 * check reaches a lab that could only answer "this client cannot" or "no such stack".
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-gnutls-load-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function make(name: string, checks: unknown[]): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'scenario.json'), JSON.stringify({ id: name, title: 't', postfix: { mainCf: 'main.cf' }, certificates: { server: { commonName: 'mx.lab.test' } }, checks }, null, 2));
  fs.writeFileSync(path.join(dir, 'main.cf'), 'smtpd_tls_cert_file = /etc/postfix/lab/tls/server.crt\n');
  return dir;
}

function refusal(dir: string): LabError & { file?: string; fieldPath?: string } {
  try {
    loadScenario(dir);
  } catch (err) {
    return err as LabError;
  }
  throw new Error(`expected ${dir} to be refused`);
}

const check = (extra: Record<string, unknown>) => ({ id: 'c', title: 'c', expect: { 'tls.protocol': 'TLSv1.3' }, ...extra });

describe('the gnutls client in a scenario file', () => {
  it('is a client of client-handshake checks, with a GnuTLS priority string', () => {
    const c = loadScenario(make('ok', [check({ clients: ['gnutls', 'openssl'] }), check({ id: 'd', clients: ['gnutls'], client: { tls: { gnutlsPriority: 'NORMAL:-VERS-ALL:+VERS-TLS1.2' } } })])).checks as readonly ClientHandshakeCheck[];
    expect(c[0]!.clients).toEqual(['gnutls', 'openssl']);
    expect(c[1]!.client.tls?.gnutlsPriority).toBe('NORMAL:-VERS-ALL:+VERS-TLS1.2');
    expect(c[0]!.clientStack).toBeNull();
  });

  it.each([
    ['ciphers', { tls: { ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' } }, 'tls.ciphers'],
    ['groups', { tls: { groups: 'X25519' } }, 'tls.groups'],
    ['securityLevel', { tls: { securityLevel: 0 } }, 'tls.securityLevel'],
    ['plain mode', { mode: 'plain' }, 'mode:plain'],
    ['resume', { resume: true }, 'resume'],
  ])('refuses OpenSSL-only asks for the gnutls client: %s', (name, client, option) => {
    const e = refusal(make(`refuse-${name.replace(/\W/g, '').toLowerCase()}`, [check({ clients: ['openssl', 'gnutls'], client })]));
    expect(e.code).toBe('ESCENARIO');
    expect(e.message).toContain('scenario.json');
    expect(e.message).toContain('checks[0].clients[1]');
    expect(e.message).toContain(`client 'gnutls' cannot`);
    expect(e.message).toContain(option);
    expect(e.detail).toMatch(/remedy: remove 'gnutls' from this check's clients/);
  });

  it('refuses a GnuTLS priority string for the OpenSSL clients', () => {
    const e = refusal(make('prio-openssl', [check({ clients: ['openssl'], client: { tls: { gnutlsPriority: 'NORMAL' } } })]));
    expect(e.message).toContain("client 'openssl' cannot");
    expect(e.message).toContain('tls.gnutlsPriority');
  });

  it('refuses an expectation the gnutls client cannot observe (renegotiation_info, compression)', () => {
    const e = refusal(make('blind', [{ id: 'c', title: 'c', clients: ['gnutls'], expect: { 'tls.secureRenegotiation': true } }]));
    expect(e.message).toContain('checks[0].expect["tls.secureRenegotiation"]');
    expect(e.message).toContain('gnutls-cli prints no renegotiation_info verdict');
  });
});

describe('clientStack: a check\'s container clients from another stack', () => {
  it('is read as a stack name; without it, the scenario\'s own stack (null)', () => {
    const c = loadScenario(make('stack-ok', [check({ clients: ['openssl', 'gnutls'], clientStack: 'bullseye' })])).checks[0] as ClientHandshakeCheck;
    expect(c.clientStack).toBe('bullseye');
  });

  it('an unknown stack is refused with the known ones, the file and the field', () => {
    const e = refusal(make('stack-unknown', [check({ clients: ['openssl'], clientStack: 'buster' })]));
    expect(e.code).toBe('ESCENARIO');
    expect(e.message).toContain('scenario.json');
    expect(e.message).toContain('checks[0].clientStack');
    expect(e.message).toContain('a known stack (bullseye, bookworm, trixie, sid)');
    expect(e.message).toContain("'buster'");
    expect(e.detail).toContain('remedy: name one of the known stacks');
  });

  it('a host client (raw, nodemailer) in a check with clientStack is refused: it runs on no stack', () => {
    const e = refusal(make('stack-raw', [check({ clients: ['openssl', 'raw'], clientStack: 'trixie' })]));
    expect(e.message).toContain('checks[0].clients[1]');
    expect(e.message).toContain('only clients that run in the lab client container (openssl, gnutls)');
    expect(e.detail).toMatch(/remedy: remove 'raw' from this check's clients/);
    // raw is the default client: a check with clientStack must name its clients.
    const d = refusal(make('stack-default-raw', [check({ clientStack: 'trixie' })]));
    expect(d.message).toContain('checks[0].clientStack');
    expect(d.message).toContain("client 'raw' is the host's Node");
  });

  it('can differ by stack (byStack replaces it like any key of the kind)', () => {
    const c = loadScenario(make('stack-bystack', [check({ clients: ['openssl'], clientStack: 'bullseye', byStack: { bullseye: { why: 'the same stack as the server there', clientStack: 'bookworm' } } })])).checks[0] as ClientHandshakeCheck;
    expect(c.clientStack).toBe('bullseye');
    expect((c.byStack!.bullseye!.check as ClientHandshakeCheck).clientStack).toBe('bookworm');
  });
});

describe('the gnutls client\'s own pieces', () => {
  it('priority: the check\'s own string, else NORMAL limited to the version range, else none', () => {
    expect(gnutlsPriority({ gnutlsPriority: 'NORMAL:%COMPAT', tls: { minVersion: 'TLSv1.2' } })).toBe('NORMAL:%COMPAT');
    expect(gnutlsPriority({ tls: { minVersion: 'TLSv1.2' } })).toBe('NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3');
    expect(gnutlsPriority({ tls: { maxVersion: 'TLSv1.1' } })).toBe('NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1');
    expect(gnutlsPriority({ tls: {} })).toBeNull();
  });

  it('transcript: certificate bodies and their detail lines are left out, the rest kept in order', () => {
    const text = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '../golden/gnutls-cli/starttls-manual-tls13.txt'), 'utf8');
    const lines = gnutlsTranscriptLines(text);
    expect(lines.filter((l) => l === '<certificate>')).toHaveLength(2);
    expect(lines.some((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l))).toBe(false);
    expect(lines.some((l) => l.startsWith('\t'))).toBe(false);
    expect(lines).toContain('- Description: (TLS1.3-X.509)-(ECDHE-SECP256R1)-(RSA-PSS-RSAE-SHA256)-(AES-256-GCM)');
    expect(lines.indexOf('220 2.0.0 Ready to start TLS')).toBeLessThan(lines.indexOf('*** Starting TLS handshake'));
    expect(lines.some((l) => l.startsWith('lab-exit='))).toBe(false);
  });
});
