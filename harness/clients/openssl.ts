import { randomInt } from 'node:crypto';
import { LabError, type ErrorCode, type Stage } from '../core/errors.js';
import { amendObservation, ObservationBuilder } from '../tls/observation-builder.js';
import type { LabClientContainer } from '../lab/client-container.js';
import type { ClientOutcome, ClientRequest } from './index.js';
import type { TlsMode } from '../tls/observation.js';
import { NO_STARTTLS, parseSClient, peerCertificateOf, verificationOf } from './openssl-output.js';
import { toolVersion } from './tool-version.js';
import { transcriptWithoutPem } from './tool-output.js';

/**
 * `openssl s_client`, run inside the scenario's lab client container (the lab's OpenSSL, not
 * the host's). It binds a port the lab picks, so Postfix's log lines pair with the
 * connection exactly as for the other clients.
 */

const VERSION_FLAG: Readonly<Record<string, string>> = { TLSv1: 'TLSv1', 'TLSv1.1': 'TLSv1.1', 'TLSv1.2': 'TLSv1.2', 'TLSv1.3': 'TLSv1.3' };

/**
 * s_client's output as transcript lines, without what must not reach a report: the session's
 * Master-Key and ticket (secrets), and certificate bodies (kept as parsed fields instead).
 */
export function transcriptLines(text: string): string[] {
  return transcriptWithoutPem(text, (l) => {
    if (/^\s*(Master-Key|Resumption PSK|PSK):/.test(l)) return l.replace(/:.*$/, ': <redacted>');
    if (/^\s*[0-9a-f]{4} - ([0-9a-f]{2}[ -]){2,}/.test(l)) return null; // ticket hex dump
    return l;
  });
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// By container id: a pooled client (lab/client-pool.ts) is the same container under a new wrapper each scenario.
const ianaCache = new Map<string, Promise<Map<string, string>>>();

/** OpenSSL → IANA cipher names, from the client container's own OpenSSL. */
function ianaNames(client: LabClientContainer): Promise<Map<string, string>> {
  let p = ianaCache.get(client.getId());
  if (!p) {
    p = client.exec(['openssl', 'ciphers', '-stdname', 'ALL:COMPLEMENTOFALL:@SECLEVEL=0']).then((r) => {
      const map = new Map<string, string>();
      for (const l of r.stdout.split('\n')) {
        const x = /^(\S+)\s+-\s+(\S+)/.exec(l);
        if (x) map.set(x[2]!, x[1]!);
      }
      return map;
    });
    ianaCache.set(client.getId(), p);
  }
  return p;
}

export async function runOpenssl(req: ClientRequest, client: LabClientContainer, files: { caFile: string | null; cert: { cert: string; key: string } | null }): Promise<ClientOutcome> {
  if (req.resume) {
    // The first connection writes its session to a file in the client container, the second offers it.
    const sessFile = `/tmp/lab-session-${randomInt(1e9)}`;
    const first = await runOpensslOnce(req, client, files, ['-sess_out', sessFile]);
    const got = (await client.exec(['sh', '-c', `test -s ${sessFile}`])).exitCode === 0;
    const second = await runOpensslOnce(req, client, files, got ? ['-sess_in', sessFile] : []);
    await client.exec(['rm', '-f', sessFile]);
    return { observation: amendObservation(second.observation, { resumption: { firstConnectionGotSession: got, offered: got } }), extra: { ...second.extra, firstConnection: first.observation } };
  }
  return runOpensslOnce(req, client, files, []);
}

/**
 * The shell script that runs s_client and speaks SMTP to it one command at a time: after the
 * handshake (and, with implicit TLS, Postfix's 220 greeting inside it) EHLO, then, once its
 * reply is there, QUIT, after which the server closes and s_client exits. Never pipelined:
 * Postfix 3.9+ defaults to smtpd_forbid_unauth_pipelining = yes and answers a QUIT written
 * with the EHLO with "554 5.5.0 Error: SMTP protocol synchronization", dropping the session
 * (trixie, sid). s_client reads a FIFO the script writes as its output file grows; every wait
 * ends when s_client does, so a failed handshake costs no time. The exit code is printed as
 * `lab-exit=N`, then s_client's output.
 */
export function dialogueScript(args: readonly string[], mode: TlsMode, ehloName: string | null, nonce: number): string {
  const f = `/tmp/lab-s_client-${nonce}`;
  const feed = [
    // s_client prints "Verify return code:" in the summary it writes once the handshake ended.
    `wait_for 'Verify return code:' 1`,
    ...(mode === 'implicit' ? [`wait_for '^220 ' 1`] : []),
    ...(ehloName ? [`r=$(count '^[0-9][0-9][0-9] ')`, `printf '%s\\r\\n' ${shellQuote(`EHLO ${ehloName}`)}`, `wait_for '^[0-9][0-9][0-9] ' $((r + 1))`] : []),
    `printf 'QUIT\\r\\n'`,
  ];
  return [
    `f=${f}; rm -f "$f.in" "$f.out"; mkfifo "$f.in"; : > "$f.out"`,
    `timeout 20 ${args.map(shellQuote).join(' ')} < "$f.in" > "$f.out" 2>&1 & pid=$!`,
    `count() { grep -c -E "$1" "$f.out"; }`,
    `wait_for() { until [ "$(count "$1")" -ge "$2" ]; do kill -0 $pid 2>/dev/null || exit 0; sleep 0.05; done; }`,
    `( trap '' PIPE; ${feed.join('; ')} ) > "$f.in"`,
    `wait $pid; echo "lab-exit=$?"; cat "$f.out"; rm -f "$f.in" "$f.out"`,
  ].join('\n');
}

async function runOpensslOnce(req: ClientRequest, client: LabClientContainer, files: { caFile: string | null; cert: { cert: string; key: string } | null }, extraArgs: readonly string[]): Promise<ClientOutcome> {
  const obs = new ObservationBuilder('openssl', { host: req.host, port: req.port, mode: req.mode });
  const t = req.tls;
  const localPort = randomInt(20_000, 60_000);
  // s_client binds the client container's address and a port the lab picks (implicit TLS too),
  // so both are known before it runs, as Postfix will log them.
  obs.set('localAddress', client.address);
  obs.set('localPort', localPort);
  const args = ['openssl', 's_client', '-connect', `${req.host}:${req.port}`, '-bind', `${client.address}:${localPort}`, '-showcerts', '-ign_eof'];
  if (req.mode === 'starttls') args.push('-starttls', 'smtp', '-name', req.ehloName ?? 'client.lab.test');
  if (t.minVersion) args.push('-min_protocol', VERSION_FLAG[t.minVersion]!);
  if (t.maxVersion) args.push('-max_protocol', VERSION_FLAG[t.maxVersion]!);
  const level = t.securityLevel !== undefined ? `:@SECLEVEL=${t.securityLevel}` : '';
  if (t.ciphers || level) args.push('-cipher', `${t.ciphers ?? 'DEFAULT'}${level}`);
  if (t.ciphersuites) args.push('-ciphersuites', t.ciphersuites);
  if (t.groups) args.push('-groups', t.groups);
  if (t.servername) args.push('-servername', t.servername);
  else args.push('-noservername');
  if (files.caFile) args.push('-CAfile', files.caFile);
  if (files.cert) {
    await client.putFile('/tmp/lab-client.crt', files.cert.cert);
    await client.putFile('/tmp/lab-client.key', files.cert.key);
    args.push('-cert', '/tmp/lab-client.crt', '-key', '/tmp/lab-client.key');
  }
  args.push(...extraArgs);
  const ehlo = req.ehloName ?? 'client.lab.test';
  const command = dialogueScript(args, req.mode, req.stopAfter === 'handshake' ? null : ehlo, randomInt(1e9));
  obs.note('*', `openssl client container ${client.address} (${await toolVersion(client, ['openssl', 'version'])}): ${args.join(' ')}`);

  let out: { stdout: string; exitCode: number };
  try {
    out = await client.exec(['sh', '-c', command]);
  } catch (err) {
    throw new LabError('ETOOL', `could not run openssl in the client container: ${(err as Error).message}`);
  }
  const text = out.stdout;
  const exit = Number(/lab-exit=(\d+)/.exec(text)?.[1] ?? out.exitCode);
  if (exit === 127 || /openssl: (not found|No such file)/.test(text)) throw new LabError('ETOOL', 'openssl is not installed in the lab client container');
  for (const l of transcriptLines(text)) obs.note(/^\d{3}[ -]/.test(l) ? 'S' : '*', l);

  const p = parseSClient(text);
  // The first failure found is the one reported (the checks below go from the earliest stage on).
  const fail = (code: ErrorCode, stage: Stage, message: string) => obs.fail(new LabError(code, message, { stage, detail: p.errors.join('\n') || text.slice(-500) }));
  if (exit === 124) fail('ETIMEOUT', p.protocol ? 'ehlo' : 'handshake', "timeout 'openssl-s_client' expired after 20 s");
  if (!p.connected) fail('ECONNECTION', 'tcp', `openssl could not connect: ${p.errors[0] ?? 'no CONNECTED line'}`);
  if (NO_STARTTLS.test(text)) fail('ENOSTARTTLS', 'starttls', 'the server did not advertise STARTTLS (openssl: "Didn\'t find STARTTLS in server response")');
  if (/SSL_CONF_cmd|no cipher match|no protocols available|no ciphers available/.test(text) && !p.protocol) fail('ECLIENT_CAPABILITY', 'handshake', `openssl could not offer this: ${p.errors[0] ?? ''}`);
  if (!p.protocol || !p.cipher) {
    const reason = /:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/.exec(p.errors.join('\n'))?.[1];
    fail('ETLS', 'handshake', `TLS handshake failed: ${reason ?? 'no cipher negotiated'}${p.alert !== null ? `, alert ${p.alert}` : ''}`);
  }

  // With -starttls s_client swallows the plaintext greeting; with implicit TLS it prints it.
  if (req.mode === 'implicit') obs.set('banner', p.replies.find((r) => r.code === 220) ?? null);
  // s_client echoes the last line of the plaintext EHLO reply ("250 CHUNKING"); the EHLO
  // reply under TLS is the multi-line one that follows.
  const afterTls = [...p.replies].reverse().find((r) => r.code === 250 && r.lines.length > 1);
  obs.set('capabilities', { beforeTls: null, afterTls: afterTls ? afterTls.lines.slice(1).map((l) => l.trim()) : null });
  if (obs.error === null && p.protocol && p.cipher) {
    const iana = (await ianaNames(client)).get(p.cipher) ?? null;
    obs.set('tls', {
      protocol: p.protocol,
      cipher: { openssl: p.cipher, iana, bits: null },
      keyExchange: p.keyExchange,
      peerCertificate: peerCertificateOf(p),
      verification: verificationOf(p, t.verifyName),
      sessionReused: p.reused,
      secureRenegotiation: p.secureRenegotiation,
      compression: p.compression,
      sniSent: t.servername ?? null,
    });
  }
  return { observation: obs.finish(), extra: { peerSignatureType: p.peerSignatureType, secureRenegotiation: p.secureRenegotiation, compression: p.compression } };
}
