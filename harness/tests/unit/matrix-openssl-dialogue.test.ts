import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dialogueScript } from '../../clients/openssl.js';

/**
 * The openssl client's SMTP dialogue never pipelines: Postfix 3.9+ (trixie, sid) defaults to
 * smtpd_forbid_unauth_pipelining = yes and drops a QUIT sent with the EHLO. The script is run
 * here with a stand-in for s_client (a node process that prints what s_client prints around the
 * dialogue, and says PIPELINED when the next command came before its reply was written).
 */
const run = promisify(execFile);

const STANDIN = String.raw`
const implicit = process.argv[1] === 'implicit', dieAfterHandshake = process.argv[2] === 'die';
process.stdout.write('---\nSSL handshake has read 100 bytes\n    Verify return code: 0 (ok)\n');
if (dieAfterHandshake) process.exit(1);
if (implicit) process.stdout.write('220 mx.lab.test ESMTP\n');
let buf = '';
let waiting = false;
const next = () => {
  for (let i = buf.indexOf('\n'); i >= 0 && !waiting; i = buf.indexOf('\n')) {
    const line = buf.slice(0, i).replace(/\r$/, '');
    buf = buf.slice(i + 1);
    process.stdout.write('got ' + line + '\n');
    if (line === 'QUIT') { process.stdout.write('221 2.0.0 Bye\n'); process.exit(0); }
    if (line.startsWith('EHLO')) {
      // Answer after a while; whatever the client wrote meanwhile was pipelined.
      waiting = true;
      setTimeout(() => { process.stdout.write((buf ? 'PIPELINED ' + JSON.stringify(buf) + '\n' : '') + '250-mx.lab.test\n250 CHUNKING\n'); waiting = false; next(); }, 300);
    }
  }
};
process.stdin.on('data', (d) => { buf += d; next(); });
`;

async function dialogue(mode: 'starttls' | 'implicit', ehlo: string | null, die = false) {
  const started = Date.now();
  const r = await run('sh', ['-c', dialogueScript(['node', '-e', STANDIN, mode, die ? 'die' : 'live'], mode, ehlo, Math.floor(Math.random() * 1e9))], { timeout: 30_000 });
  return { out: r.stdout, ms: Date.now() - started };
}

describe('openssl client dialogue (dialogueScript)', () => {
  it('STARTTLS: EHLO after the handshake, QUIT only after the EHLO reply', async () => {
    const { out } = await dialogue('starttls', 'client.lab.test');
    expect(out).toMatch(/^lab-exit=0$/m);
    expect(out).not.toContain('PIPELINED');
    const lines = out.split('\n');
    expect(lines.indexOf('got EHLO client.lab.test')).toBeGreaterThan(lines.findIndex((l) => l.includes('Verify return code')));
    expect(lines.indexOf('250 CHUNKING')).toBeGreaterThan(0);
    expect(lines.indexOf('got QUIT')).toBeGreaterThan(lines.indexOf('250 CHUNKING'));
    expect(out).toContain('221 2.0.0 Bye');
  });

  it('implicit TLS: EHLO only after the 220 greeting inside TLS', async () => {
    const { out } = await dialogue('implicit', 'client.lab.test');
    const lines = out.split('\n');
    expect(lines.indexOf('got EHLO client.lab.test')).toBeGreaterThan(lines.indexOf('220 mx.lab.test ESMTP'));
    expect(out).not.toContain('PIPELINED');
    expect(lines.indexOf('got QUIT')).toBeGreaterThan(lines.indexOf('250 CHUNKING'));
  });

  it('stop after the handshake: QUIT alone', async () => {
    const { out } = await dialogue('starttls', null);
    expect(out).not.toContain('got EHLO');
    expect(out).toContain('got QUIT');
  });

  it('an s_client that ends after the handshake ends the dialogue at once (no wait for a reply that never comes)', async () => {
    const { out, ms } = await dialogue('implicit', 'client.lab.test', true);
    expect(out).toMatch(/^lab-exit=1$/m);
    expect(ms).toBeLessThan(5000);
  });
});
