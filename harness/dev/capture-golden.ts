/**
 * Captures the golden server answers in harness/tests/golden/tls-records/ from a real lab
 * Postfix (scenario opportunistic-25, seed 000 settings):
 *
 *   npx tsx harness/dev/capture-golden.ts            # writes NAME.bin and NAME.json per case
 *
 * Each case speaks SMTP (banner, EHLO, STARTTLS unless the case says not), writes one
 * hand-built ClientHello and keeps every byte the server sent after it until the answer was
 * known (or the server closed, or 5 s passed). NAME.json is the reader's parse of those bytes;
 * it is written once and read against the bytes before commit (the README says how), never
 * regenerated to make a failing test pass.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../core/errors.js';
import { ensureEngine } from '../engine/engine.js';
import { ensureImage } from '../engine/images.js';
import { PROJECT_ROOT, SCENARIOS_DIR } from '../engine/paths.js';
import { ScenarioSession } from '../lab/scenario-session.js';
import { loadScenario } from '../scenario/load.js';
import { SmtpSession } from '../smtp/smtp-session.js';
import { readGreeting, sayEhlo, starttlsDialogue } from '../smtp/starttls.js';
import { connectTcp } from '../smtp/tcp.js';
import { byOpenSslName, GROUP, suitesFor } from '../enum/cipher-suites.js';
import { buildClientHello, type ClientHelloSpec } from '../enum/client-hello.js';
import { answerToJson, type FinishedAnswer, ServerAnswerReader } from '../enum/server-answer.js';

export const GOLDEN_DIR = path.join(PROJECT_ROOT, 'harness/tests/golden/tls-records');

const code = (openssl: string): number => {
  const s = byOpenSslName(openssl);
  if (!s) throw new LabError('EINTERNAL', `no suite named ${openssl}`);
  return s.code;
};

export interface GoldenCase {
  readonly name: string;
  /** false: send the ClientHello in plain SMTP, right after EHLO, to capture what a confused probe would read. */
  readonly starttls: boolean;
  readonly spec: ClientHelloSpec;
}

export const GOLDEN_CASES: readonly GoldenCase[] = [
  // Everything a TLS 1.2 client could offer: the server's preference picks.
  { name: 'tls12-ecdhe-rsa', starttls: true, spec: { maxVersion: 'TLSv1.2', ciphers: suitesFor('TLSv1.2'), sni: 'mx.lab.test' } },
  {
    name: 'tls12-dhe-only',
    starttls: true,
    spec: { maxVersion: 'TLSv1.2', ciphers: ['DHE-RSA-AES256-GCM-SHA384', 'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-CHACHA20-POLY1305'].map(code) },
  },
  { name: 'tls13-hrr-empty-key-share', starttls: true, spec: { maxVersion: 'TLSv1.3', ciphers: suitesFor('TLSv1.3') } },
  { name: 'tls13-x25519', starttls: true, spec: { maxVersion: 'TLSv1.3', ciphers: suitesFor('TLSv1.3'), keyShareGroups: [GROUP.x25519] } },
  { name: 'tls13-p256-only', starttls: true, spec: { maxVersion: 'TLSv1.3', ciphers: suitesFor('TLSv1.3'), groups: [GROUP.secp256r1], keyShareGroups: [GROUP.secp256r1] } },
  // Postfix 3.7 sets no FFDHE groups for TLS 1.3 (tls_ffdhe_auto_groups came in 3.8).
  { name: 'tls13-ffdhe-groups-only', starttls: true, spec: { maxVersion: 'TLSv1.3', ciphers: suitesFor('TLSv1.3'), groups: [GROUP.ffdhe2048, GROUP.ffdhe3072, GROUP.ffdhe4096] } },
  { name: 'tls13-ccm8-only', starttls: true, spec: { maxVersion: 'TLSv1.3', ciphers: [0x1305] } },
  { name: 'tls11-protocol-version', starttls: true, spec: { maxVersion: 'TLSv1.1', ciphers: suitesFor('TLSv1.1') } },
  { name: 'sslv3-refused', starttls: true, spec: { maxVersion: 'SSLv3', ciphers: suitesFor('SSLv3') } },
  { name: 'tls12-rc4-only-handshake-failure', starttls: true, spec: { maxVersion: 'TLSv1.2', ciphers: [0x0005] } },
  { name: 'tls12-fallback-scsv', starttls: true, spec: { maxVersion: 'TLSv1.2', ciphers: suitesFor('TLSv1.2'), fallbackScsv: true } },
  { name: 'smtp-text-without-starttls', starttls: false, spec: { maxVersion: 'TLSv1.2', ciphers: suitesFor('TLSv1.2') } },
];

export interface CapturedAnswer {
  /** Every byte the server sent after the ClientHello, up to the moment the answer was known. */
  readonly bytes: Buffer;
  readonly answer: FinishedAnswer;
}

/**
 * One probe: SMTP up to STARTTLS (the lab's one STARTTLS dialogue, so plaintext after the 220
 * is EINJECTION here as everywhere), one ClientHello, the server's answer. The socket is
 * closed as soon as the answer is known; no handshake is completed.
 */
export async function probeOnce(endpoint: { host: string; port: number }, c: GoldenCase, timeoutMs = 5_000): Promise<CapturedAnswer> {
  const sock = await connectTcp(endpoint.host, endpoint.port, { timeoutMs });
  try {
    const smtp = new SmtpSession({ stage: 'banner' });
    if (c.starttls) {
      await starttlsDialogue(smtp, sock, { ehloName: 'probe.lab.test', timeouts: { banner: timeoutMs, reply: timeoutMs } });
    } else {
      // The confused probe: a ClientHello right after EHLO, still in plain SMTP.
      smtp.attach(sock);
      await readGreeting(smtp, { ms: timeoutMs });
      await sayEhlo(smtp, { ehloName: 'probe.lab.test', ms: timeoutMs });
      smtp.detach();
    }
    return await new Promise<CapturedAnswer>((resolve) => {
      const reader = new ServerAnswerReader();
      const got: Buffer[] = [];
      let done = false;
      const end = (answer: FinishedAnswer) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ bytes: Buffer.concat(got), answer });
      };
      const timer = setTimeout(() => end(reader.finish('timeout')), timeoutMs);
      sock.on('data', (d: Buffer) => {
        got.push(d);
        reader.push(d);
        const a = reader.answer();
        if (a) end(a);
      });
      sock.on('error', () => end(reader.finish('closed')));
      sock.on('close', () => end(reader.finish('closed')));
      sock.write(buildClientHello(c.spec));
    });
  } finally {
    sock.destroy();
  }
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true'; // as the CLI does: Ryuk cannot be pulled offline
  await ensureEngine();
  const image = await ensureImage('postfix');
  const session = await ScenarioSession.start(loadScenario(path.join(SCENARIOS_DIR, 'opportunistic-25')), image.tag);
  const stop = () => void session.stop().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  try {
    const ep = session.postfix.endpoint('smtp');
    fs.mkdirSync(GOLDEN_DIR, { recursive: true });
    for (const c of GOLDEN_CASES) {
      if (only.length > 0 && !only.includes(c.name)) continue;
      const r = await probeOnce(ep, c);
      fs.writeFileSync(path.join(GOLDEN_DIR, `${c.name}.bin`), r.bytes);
      fs.writeFileSync(path.join(GOLDEN_DIR, `${c.name}.json`), `${JSON.stringify(answerToJson(r.answer), null, 2)}\n`);
      process.stdout.write(`${c.name}: ${r.bytes.length} bytes, ${r.answer.kind}\n`);
    }
    process.stdout.write(`image ${image.tag}\n`);
  } finally {
    process.off('SIGINT', stop);
    const problems = await session.stop();
    for (const p of problems) process.stderr.write(`cleanup: ${p}\n`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  });
}
