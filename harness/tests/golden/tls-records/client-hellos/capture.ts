/**
 * Captures the real ClientHellos in this folder: a net.Server on 127.0.0.1 records the first
 * bytes each client sends (until it has been quiet for 300 ms), then hangs up. Nothing leaves
 * loopback, no handshake completes.
 *
 *   npx tsx harness/tests/golden/tls-records/client-hellos/capture.ts     # writes NAME.bin and NAME.json
 *
 * NAME.json is the ClientHello reader's parse of NAME.bin, written once and checked by hand
 * against `openssl s_client -msg` before commit; the unit test reads it, and a reader change
 * that alters it is a regression to explain, never a file to regenerate.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { readClientHello } from '../../../../tls/client-hello-reader.js';

const DIR = path.dirname(fileURLToPath(import.meta.url));

interface Case {
  readonly name: string;
  /** How the client was run (also in README.md). */
  readonly how: string;
  readonly run: (port: number) => { stop(): void };
}

const nodeClient = (opts: tls.ConnectionOptions) => (port: number) => {
  const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts });
  s.on('error', () => undefined);
  return { stop: () => s.destroy() };
};

const opensslClient = (args: readonly string[]) => (port: number) => {
  const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
  return { stop: () => p.kill() };
};

export const CASES: readonly Case[] = [
  { name: 'node-tls-default', how: "node:tls tls.connect({ servername: 'mx.lab.test' }) (Node 20, OpenSSL 3.0)", run: nodeClient({ servername: 'mx.lab.test' }) },
  {
    name: 'node-tls-tls12-alpn',
    how: "node:tls tls.connect({ maxVersion: 'TLSv1.2', ALPNProtocols: ['h2', 'http/1.1'], servername: 'mail.example.test' })",
    run: nodeClient({ maxVersion: 'TLSv1.2', ALPNProtocols: ['h2', 'http/1.1'], servername: 'mail.example.test' }),
  },
  { name: 'openssl-s-client-default', how: 'openssl s_client -connect 127.0.0.1:PORT -servername mx.lab.test -alpn smtp (OpenSSL 3.0)', run: opensslClient(['-servername', 'mx.lab.test', '-alpn', 'smtp']) },
  {
    name: 'openssl-s-client-tls13-groups',
    how: 'openssl s_client -connect 127.0.0.1:PORT -tls1_3 -groups X25519:P-256:ffdhe2048 -ciphersuites TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256 -noservername',
    run: opensslClient(['-tls1_3', '-groups', 'X25519:P-256:ffdhe2048', '-ciphersuites', 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256', '-noservername']),
  },
  {
    name: 'openssl-s-client-tls12-ciphers',
    how: 'openssl s_client -connect 127.0.0.1:PORT -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA -noservername',
    run: opensslClient(['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA', '-noservername']),
  },
];

/** The first bytes a client sends to a server that never answers. */
export async function captureFirstBytes(run: Case['run'], quietMs = 300, maxMs = 5_000): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const got = new Promise<Buffer>((resolve) => {
      server.once('connection', (sock) => {
        const chunks: Buffer[] = [];
        let quiet: NodeJS.Timeout | undefined;
        const done = () => {
          clearTimeout(quiet);
          clearTimeout(cap);
          sock.destroy();
          resolve(Buffer.concat(chunks));
        };
        const cap = setTimeout(done, maxMs);
        sock.on('error', () => undefined);
        sock.on('data', (d: Buffer) => {
          chunks.push(d);
          clearTimeout(quiet);
          quiet = setTimeout(done, quietMs);
        });
        sock.on('close', done);
      });
    });
    const client = run(port);
    try {
      return await got;
    } finally {
      client.stop();
    }
  } finally {
    server.close();
  }
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  for (const c of CASES) {
    if (only.length > 0 && !only.includes(c.name)) continue;
    const bytes = await captureFirstBytes(c.run);
    const read = readClientHello(bytes);
    fs.writeFileSync(path.join(DIR, `${c.name}.bin`), bytes);
    fs.writeFileSync(path.join(DIR, `${c.name}.json`), `${JSON.stringify(read, null, 2)}\n`);
    process.stdout.write(`${c.name}: ${bytes.length} bytes, ${read.kind}\n`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  });
}
