import { randomInt } from 'node:crypto';
import { LabError, type ErrorCode, type Stage } from '../core/errors.js';
import { ObservationBuilder } from '../tls/observation-builder.js';
import type { LabClientContainer } from '../lab/client-container.js';
import type { SmtpReply } from '../tls/observation.js';
import type { ClientOutcome, ClientRequest } from './index.js';
import { parseGnutlsCli, peerCertificateOfGnutls, verificationOfGnutls } from './gnutls-output.js';
import { toolVersion } from './tool-version.js';
import { transcriptWithoutPem } from './tool-output.js';

/**
 * `gnutls-cli`, run inside the scenario's lab client container, exactly where s_client runs
 * (the lab image of the scenario's stack, or of the check's clientStack, has gnutls-bin): a
 * second TLS library beside OpenSSL (s_client, Node), so a disagreement between the two is a
 * finding. STARTTLS is driven by the lab's own script (`--starttls`: plain first, EHLO and
 * STARTTLS written by the script, SIGALRM starts the handshake), so the banner and the EHLO
 * reply before TLS are seen. gnutls-cli cannot bind a chosen port, so the script reads the
 * client's own socket with `ss` while the session waits: Postfix's log is paired with a
 * connection by its port, as for every other client. Always `--insecure`: gnutls-cli then
 * reports its verdict ("- Status:") and goes on, as the other clients do; the lab judges it.
 */

const PRIORITY_VERSIONS: Readonly<Record<string, string>> = { TLSv1: 'VERS-TLS1.0', 'TLSv1.1': 'VERS-TLS1.1', 'TLSv1.2': 'VERS-TLS1.2', 'TLSv1.3': 'VERS-TLS1.3' };
const ORDER = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
/** How long gnutls-cli may take, dialogue included, before the script's watchdog ends it (SIGTERM: exit 143). */
const WATCHDOG_SECONDS = 20;

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The priority string: the check's own, or NORMAL limited to the check's version range, or null (gnutls-cli's default). */
export function gnutlsPriority(req: Pick<ClientRequest, 'gnutlsPriority' | 'tls'>): string | null {
  if (req.gnutlsPriority) return req.gnutlsPriority;
  const t = req.tls;
  if (!t.minVersion && !t.maxVersion) return null;
  const from = ORDER.indexOf(t.minVersion ?? 'TLSv1');
  const to = ORDER.indexOf(t.maxVersion ?? 'TLSv1.3');
  return `NORMAL:-VERS-ALL:${ORDER.slice(from, to + 1).map((v) => `+${PRIORITY_VERSIONS[v]}`).join(':')}`;
}

/**
 * The dialogue script (harness/tests/golden/gnutls-cli/starttls-manual.sh is one, filled in).
 * Every wait ends when gnutls-cli does, so a failed handshake costs no time; the script prints
 * `lab-exit=N`, `lab-local=ADDR:PORT` (the client's socket as ss saw it), then the output.
 * `ehloBefore`: the EHLO name before STARTTLS (starttls mode always sends one); `ehloAfter`:
 * the EHLO under TLS, or null to stop after the handshake.
 */
export function gnutlsScript(args: readonly string[], mode: 'starttls' | 'implicit', port: number, ehloBefore: string, ehloAfter: string | null, nonce: number): string {
  const f = `/tmp/lab-gnutls-${nonce}`;
  const local = `echo "lab-local=$(ss -Htnp state established '( dport = :${port} )' | grep "pid=$pid," | awk '{print $3}' | head -n 1)" > "$f.local"`;
  const ehlo = (name: string) => `printf '%s\\n' ${shellQuote(`EHLO ${name}`)}`;
  const handshakeOver = `wait_for '^- Options:|^- Handshake was completed|^\\*\\*\\* (Fatal|Handshake has failed)' 1 || exit 0`;
  // Before TLS (starttls): banner, EHLO, STARTTLS, its 220; then SIGALRM starts the handshake.
  const feed =
    mode === 'starttls'
      ? [`wait_for '^220 ' 1 || exit 0`, local, ehlo(ehloBefore), `wait_for '^250 ' 1 || exit 0`, `printf 'STARTTLS\\n'`, `wait_for '^220 |^[45][0-9][0-9] ' 2 || exit 0`, 'kill -ALRM $pid', handshakeOver]
      : [handshakeOver, local, `wait_for '^220 ' 1 || exit 0`];
  const afterTls = ehloAfter ? [ehlo(ehloAfter), `wait_for '^250 ' ${mode === 'starttls' ? 2 : 1} || exit 0`] : [];
  return [
    `f=${f}; rm -f "$f.in" "$f.out" "$f.local"; mkfifo "$f.in"; : > "$f.out"`,
    `${args.map(shellQuote).join(' ')} < "$f.in" > "$f.out" 2>&1 & pid=$!`,
    // The watchdog holds none of the exec's output streams: Docker ends an exec only when its
    // streams close, so a sleep still holding them kept every run waiting (2 s, Docker's grace
    // for a finished exec's streams). Ended, it ends its sleep too.
    `( trap 'kill $s 2>/dev/null; exit 0' TERM; sleep ${WATCHDOG_SECONDS} & s=$!; wait $s; kill $pid 2>/dev/null ) </dev/null >/dev/null 2>&1 & dog=$!`,
    `count() { grep -c -E "$1" "$f.out"; }`,
    `wait_for() { until [ "$(count "$1")" -ge "$2" ]; do kill -0 $pid 2>/dev/null || return 1; sleep 0.02; done; }`,
    `( trap '' PIPE; ${[...feed, ...afterTls, `printf 'QUIT\\n'`, `wait_for '^221 ' 1`].join('; ')} ) > "$f.in"`,
    `wait $pid; rc=$?; kill $dog 2>/dev/null; echo "lab-exit=$rc"; cat "$f.local" 2>/dev/null; cat "$f.out"; rm -f "$f.in" "$f.out" "$f.local"`,
  ].join('\n');
}

/** gnutls-cli's output as transcript lines: certificate bodies and their indented detail lines left out (kept as parsed fields). */
export function gnutlsTranscriptLines(text: string): string[] {
  // Indented detail lines belong to the certificate printout, except its subject line.
  return transcriptWithoutPem(text, (l) => (/^\s/.test(l) && !/^ - subject/.test(l) ? null : l));
}

const strip = (r: SmtpReply | undefined) => (r ? r.lines.slice(1).map((l) => l.replace(/^\d{3}[ -]/, '').trim()) : null);
/** A reply as every client records it: its lines without the code and separator ("220 mx …" → "mx …"). */
const asRecorded = (r: SmtpReply | undefined): SmtpReply | null => (r ? { code: r.code, lines: r.lines.map((l) => l.replace(/^\d{3}[ -]/, '')) } : null);

export async function runGnutls(req: ClientRequest, client: LabClientContainer, files: { caFile: string | null; cert: { cert: string; key: string } | null }): Promise<ClientOutcome> {
  if (req.mode === 'plain') throw new LabError('ECLIENT_CAPABILITY', 'the gnutls client speaks TLS only (starttls or implicit)');
  const t = req.tls;
  // OpenSSL-style lists mean nothing to GnuTLS (the loader refuses them for this client; a request built in code may still carry them).
  if ((t.ciphers && t.ciphers !== 'DEFAULT') || t.ciphersuites || t.groups || t.securityLevel !== undefined) {
    throw new LabError('ECLIENT_CAPABILITY', 'the gnutls client takes no OpenSSL cipher, ciphersuite, group or security-level list; give the check a GnuTLS "gnutlsPriority"');
  }
  const obs = new ObservationBuilder('gnutls', { host: req.host, port: req.port, mode: req.mode });
  obs.set('localAddress', client.address);
  const args = ['gnutls-cli', '--crlf', '--port', String(req.port), '--insecure', '--print-cert'];
  if (req.mode === 'starttls') args.push('--starttls');
  const priority = gnutlsPriority(req);
  if (priority) args.push(`--priority=${priority}`);
  if (t.servername) args.push(`--sni-hostname=${t.servername}`);
  else args.push('--disable-sni');
  if (t.verifyName) args.push(`--verify-hostname=${t.verifyName}`);
  if (files.caFile) args.push(`--x509cafile=${files.caFile}`);
  if (files.cert) {
    await client.putFile('/tmp/lab-client.crt', files.cert.cert);
    await client.putFile('/tmp/lab-client.key', files.cert.key);
    args.push('--x509certfile=/tmp/lab-client.crt', '--x509keyfile=/tmp/lab-client.key');
  }
  args.push(req.host);
  const ehloName = req.ehloName ?? 'client.lab.test';
  obs.note('*', `gnutls client container ${client.address} (${await toolVersion(client, ['gnutls-cli', '--version'])}): ${args.join(' ')}`);
  let out: { stdout: string; exitCode: number };
  try {
    out = await client.exec(['sh', '-c', gnutlsScript(args, req.mode, req.port, ehloName, req.stopAfter === 'handshake' ? null : ehloName, randomInt(1e9))]);
  } catch (err) {
    throw new LabError('ETOOL', `could not run gnutls-cli in the lab client container: ${(err as Error).message}`);
  }
  const text = out.stdout;
  const exit = Number(/lab-exit=(\d+)/.exec(text)?.[1] ?? out.exitCode);
  if (exit === 127 || /gnutls-cli: (not found|No such file)/.test(text)) {
    throw new LabError('ETOOL', 'gnutls-cli is not installed in the lab client container (gnutls-bin belongs in containers/postfix/recipe.json of every stack)');
  }
  for (const l of gnutlsTranscriptLines(text)) obs.note(/^\d{3}[ -]/.test(l) ? 'S' : '*', l);
  const p = parseGnutlsCli(text);
  if (p.local) obs.set('localPort', p.local.port);
  // The first failure found is the one reported (from the earliest stage on).
  const fail = (code: ErrorCode, stage: Stage, message: string) => obs.fail(new LabError(code, message, { stage, detail: p.errors.join('\n') || text.slice(-500) }));
  if (!p.connected) fail('ECONNECTION', 'tcp', `gnutls-cli could not connect: ${p.errors[0] ?? 'no connection line'}`);
  if (req.mode === 'starttls') {
    const before = p.beforeTls ?? p.replies;
    obs.set('banner', asRecorded(before[0]));
    const ehloReply = before.find((r) => r.code === 250);
    if (ehloReply && !ehloReply.lines.some((l) => /^250[ -]STARTTLS\b/i.test(l))) fail('ENOSTARTTLS', 'starttls', 'the server did not advertise STARTTLS');
    obs.set('starttlsReply', asRecorded(p.beforeTls?.filter((r) => r.code === 220)[1]));
  } else {
    obs.set('banner', asRecorded(p.replies.find((r) => r.code === 220)));
  }
  if (exit === 143 && !p.handshakeCompleted) fail('ETIMEOUT', 'handshake', `gnutls-cli did not finish within ${WATCHDOG_SECONDS} s`);
  if (!p.handshakeCompleted) fail('ETLS', 'handshake', `TLS handshake failed: ${p.errors.find((e) => e.startsWith('*** Fatal error')) ?? p.errors[0] ?? 'no session'}${p.alert !== null ? `, alert ${p.alert}` : ''}`);
  const after = req.mode === 'starttls' ? p.afterTls : p.replies;
  obs.set('capabilities', { beforeTls: req.mode === 'starttls' ? strip((p.beforeTls ?? []).find((r) => r.code === 250)) : null, afterTls: strip(after?.find((r) => r.code === 250)) });
  if (obs.error === null && p.protocol && p.cipherIana) {
    obs.set('tls', {
      protocol: p.protocol,
      cipher: { openssl: p.cipherOpenssl ?? p.cipherIana, iana: p.cipherIana, bits: null },
      keyExchange: p.keyExchange,
      peerCertificate: peerCertificateOfGnutls(p),
      verification: verificationOfGnutls(p, t.verifyName),
      sessionReused: p.resumed,
      secureRenegotiation: null,
      compression: null,
      sniSent: t.servername ?? null,
    });
  } else if (obs.error === null) {
    fail('ETLS', 'handshake', `gnutls-cli completed a session the lab cannot name: ${p.description?.join('-') ?? 'no description line'}`);
  }
  return { observation: obs.finish(), extra: { gnutlsDescription: p.description, gnutlsStatus: p.status, signature: p.signature } };
}
