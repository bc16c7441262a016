import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../../scenario/load.js';
import { checkForStack } from '../../checks/kinds/spec-common.js';
import type { LabError } from '../../core/errors.js';

/** byStack: a check's expectation per stack, read and validated like the check itself, for every kind. */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-bystack-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const scenario = (checks: unknown[]) => ({ id: 'x', title: 't', postfix: { mainCf: 'main.cf' }, certificates: { server: { commonName: 'mx.lab.test' } }, checks });

function make(name: string, checks: unknown[]): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'scenario.json'), JSON.stringify({ ...scenario(checks), id: name }, null, 2));
  fs.writeFileSync(path.join(dir, 'main.cf'), 'smtpd_tls_cert_file = /etc/postfix/lab/tls/server.crt\n');
  return dir;
}

function refusal(dir: string): LabError {
  try {
    loadScenario(dir);
  } catch (err) {
    return err as LabError;
  }
  throw new Error(`expected ${dir} to be refused`);
}

const handshake = (byStack: unknown) => ({ id: 'c', title: 'c', expect: { 'tls.protocol': 'TLSv1.3' }, byStack });

describe('byStack: per-stack expectations of a check', () => {
  it('a client-handshake check: the stack gets its variant, another stack the check as written, and which applied is said', () => {
    const s = loadScenario(make('ok', [handshake({ bullseye: { why: 'OpenSSL 1.1.1 …', expect: { 'tls.protocol': 'TLSv1.2' } } })]));
    const c = s.checks[0]!;
    const on = checkForStack(c, 'bullseye');
    expect(on.check.kind).toBe('client-handshake');
    expect((on.check as typeof c & { expect: Record<string, unknown> }).expect['tls.protocol']).toBe('TLSv1.2');
    expect(on.check.id).toBe('c');
    expect(on.expectation).toEqual({ stack: 'bullseye', from: 'byStack', why: 'OpenSSL 1.1.1 …', keys: ['expect'], byStack: ['bullseye'] });
    const off = checkForStack(c, 'trixie');
    expect((off.check as typeof c & { expect: Record<string, unknown> }).expect['tls.protocol']).toBe('TLSv1.3');
    expect(off.expectation).toMatchObject({ stack: 'trixie', from: 'default', why: '', keys: [] });
  });

  it('a key set to null is removed on that stack (a log line the stack never writes)', () => {
    const c = loadScenario(
      make('removed', [{ id: 'c', title: 'c', expect: { 'tls.protocol': 'TLSv1.2' }, serverLog: { event: 'tls-alert', expect: { description: 'no renegotiation' } }, byStack: { bullseye: { why: 'w', serverLog: null, serverLogCounts: { 'tls-alert': 0 } } } }]),
    ).checks[0]!;
    const on = checkForStack(c, 'bullseye');
    expect((on.check as unknown as { serverLog: unknown; serverLogCounts: unknown }).serverLog).toBeNull();
    expect((on.check as unknown as { serverLogCounts: unknown }).serverLogCounts).toEqual({ 'tls-alert': 0 });
    expect(on.expectation?.keys).toEqual(['serverLog', 'serverLogCounts']);
    expect((checkForStack(c, 'sid').check as unknown as { serverLog: { event: string } }).serverLog.event).toBe('tls-alert');
  });

  it('a check without byStack records nothing', () => {
    const c = loadScenario(make('plain', [{ id: 'c', title: 'c', expect: { 'tls.protocol': 'TLSv1.3' } }])).checks[0]!;
    expect(checkForStack(c, 'sid')).toEqual({ check: c, expectation: null });
  });

  it('works for every kind: enumeration, offer-only, startup-log', () => {
    const s = loadScenario(
      make('kinds', [
        { id: 'e', title: 'e', enumerate: { protocol: 'TLSv1.2', refused: ['AES128-CCM8'] }, byStack: { trixie: { why: 'w', enumerate: { protocol: 'TLSv1.2', accepted: ['AES128-CCM8'] } } } },
        { id: 'o', title: 'o', offerOnly: { version: 'TLSv1.2', ciphers: ['AES128-SHA'] }, expect: { kind: 'alert' }, byStack: { bullseye: { why: 'w', expect: { kind: 'server-hello' } } } },
        { id: 's', title: 's', startupLog: [{ event: 'postconf' }], byStack: { sid: { why: 'w', startupLogAbsent: [{ event: 'warning' }] } } },
      ]),
    );
    expect((checkForStack(s.checks[0]!, 'trixie').check as unknown as { enumerate: { accepted: unknown } }).enumerate.accepted).toHaveLength(1);
    expect((checkForStack(s.checks[1]!, 'bullseye').check as unknown as { expect: Record<string, unknown> }).expect.kind).toBe('server-hello');
    const sid = checkForStack(s.checks[2]!, 'sid').check as unknown as { startupLog: unknown[]; startupLogAbsent: unknown[] };
    // A key the entry does not name stays the check's own.
    expect(sid.startupLog).toHaveLength(1);
    expect(sid.startupLogAbsent).toHaveLength(1);
  });

  it('a misspelt stack name is ESCENARIO naming the file, the field and the known stacks', () => {
    const e = refusal(make('bad-stack', [handshake({ bulseye: { why: 'w', expect: { 'tls.protocol': 'TLSv1.2' } } })]));
    expect(e.code).toBe('ESCENARIO');
    expect(e.message).toMatch(/bad-stack[/\\]scenario\.json: checks\[0\]\.byStack\.bulseye: expected a known stack \(bullseye, bookworm, trixie, sid\), found 'bulseye' in check 'c'/);
  });

  it('a misspelt field inside an entry is ESCENARIO naming its path under byStack', () => {
    const e = refusal(make('bad-field', [handshake({ trixie: { why: 'w', expcet: { 'tls.protocol': 'TLSv1.2' } } })]));
    expect(e.message).toMatch(/checks\[0\]\.byStack\.trixie\.expcet: expected one of the known keys \(why, clients, client, expect/);
  });

  it('a misspelt path inside an entry is refused as in the check, with the nearest path', () => {
    const e = refusal(make('bad-path', [handshake({ trixie: { why: 'w', expect: { 'tls.protcol': 'TLSv1.2' } } })]));
    expect(e.message).toMatch(/checks\[0\]\.byStack\.trixie\.expect\["tls\.protcol"\]/);
    expect(e.detail).toMatch(/did you mean 'tls\.protocol'/);
  });

  it('why is required, and an entry must replace something', () => {
    expect(refusal(make('no-why', [handshake({ sid: { expect: { 'tls.protocol': 'TLSv1.2' } } })])).message).toMatch(/checks\[0\]\.byStack\.sid: expected "why": the server difference/);
    expect(refusal(make('empty-why', [handshake({ sid: { why: ' ', expect: { 'tls.protocol': 'TLSv1.2' } } })])).message).toMatch(/checks\[0\]\.byStack\.sid\.why: expected why this stack differs/);
    expect(refusal(make('nothing', [handshake({ sid: { why: 'w' } })])).message).toMatch(/checks\[0\]\.byStack\.sid: expected at least one of the client-handshake check's own keys/);
    expect(refusal(make('empty', [handshake({})])).message).toMatch(/checks\[0\]\.byStack: expected at least one stack/);
  });

  it('an entry cannot change which check it is (id, service …) nor hold another kind\'s key', () => {
    expect(refusal(make('id', [handshake({ sid: { why: 'w', id: 'd' } })])).message).toMatch(/checks\[0\]\.byStack\.sid\.id: expected one of the known keys/);
    expect(refusal(make('other-kind', [handshake({ sid: { why: 'w', enumerate: {} } })])).message).toMatch(/checks\[0\]\.byStack\.sid\.enumerate: expected one of the known keys/);
  });

  it('the variant is held to the kind\'s rules: a blind spot of a client in the entry is refused', () => {
    const e = refusal(make('blind', [{ id: 'c', title: 'c', clients: ['raw'], expect: { 'tls.protocol': 'TLSv1.3' }, byStack: { sid: { why: 'w', clients: ['openssl'], expect: { 'capabilities.beforeTls': null } } } }]));
    expect(e.message).toMatch(/byStack\.sid.*client 'openssl' cannot observe/);
  });
});
