import { forTerminal } from '../core/escape.js';
import { PROBE_VERSIONS } from './cipher-suites.js';
import type { ProbeResult, SuiteEntry } from './probe-result.js';

/**
 * The human-readable probe report. Everything the server chose the words of (banner,
 * capabilities, certificate names, error details) goes through forTerminal; our own table
 * names (suites, groups, alerts) are ASCII from the lab's tables.
 */

function kxText(s: SuiteEntry): string {
  const k = s.keyExchange;
  if (!k) return '';
  if (k.kind === 'dhe') return `DH ${k.bits}`;
  return `${k.kind === 'tls13' ? 'group' : 'ECDH'} ${k.group}`;
}

function yesNo(v: boolean | null, yes = 'yes', no = 'no', unknown = 'not tested'): string {
  return v === null ? unknown : v ? yes : no;
}

export function renderProbe(r: ProbeResult): string[] {
  const out: string[] = [];
  const t = r.target;
  const where = t.host === t.address ? `${t.host}:${t.port}` : `${t.host}:${t.port} (${t.address})`;
  out.push(`probe ${forTerminal(where)} (${r.mode}, scope ${r.scope})`);
  if (r.starttls?.banner) out.push(`  banner: ${r.starttls.banner.code} ${forTerminal(r.starttls.banner.lines.join(' / '), 200)}`);
  out.push('');
  out.push('Protocols');
  for (const v of PROBE_VERSIONS) {
    const said = r.protocols[v] === null ? 'unknown ' : r.protocols[v] ? 'accepted' : 'refused ';
    out.push(`  ${v.padEnd(8)} ${said}  ${r.protocols[v] ? '' : `(${forTerminal(r.protocolAnswers[v], 300)})`}`.trimEnd());
  }
  for (const v of [...PROBE_VERSIONS].reverse()) {
    const list = r.ciphersByProtocol[v];
    if (list.length === 0) continue;
    out.push('');
    const order = r.order[v] === 'server' ? 'server order, listed by preference' : r.order[v] === 'client' ? 'client order (the server follows the client)' : 'order not determined';
    out.push(`${v} suites: ${list.length}, ${order}`);
    for (const s of list) {
      out.push(`  ${s.hex.padEnd(10)} ${(s.openssl ?? '-').padEnd(32)} ${s.iana.padEnd(48)} ${String(s.bits).padStart(3)} bits  ${kxText(s)}`.trimEnd());
    }
  }
  out.push('');
  out.push('Key exchange');
  for (const [v, names] of Object.entries(r.groupsByProtocol)) out.push(`  ${v.padEnd(8)} groups (server's picks in order): ${names.join(' ')}`);
  if (r.groups.length === 0) out.push('  no ECDHE/FFDHE groups accepted');
  // Post-quantum groups exist only in TLS 1.3; say "none" only where TLS 1.3 groups were enumerated.
  const pq = r.groups.filter((g) => g.kind === 'hybrid' || g.kind === 'kem');
  if (pq.length > 0) out.push(`  post-quantum: ${pq.map((g) => `${g.name} (${g.kind === 'hybrid' ? 'hybrid' : 'ML-KEM alone'})`).join(', ')}`);
  else if (r.groupsByProtocol['TLSv1.3']) out.push('  post-quantum: none accepted (no ML-KEM or hybrid group in TLS 1.3)');
  out.push(`  DHE: ${r.dhe ? `${r.dhe.bits} bits${r.dhe.allBits.length > 1 ? ` (sizes seen: ${r.dhe.allBits.join(', ')}; the smallest is shown)` : ''}` : 'no DHE suite accepted'}`);
  if (r.certificate) {
    const c = r.certificate;
    out.push('');
    out.push(`Certificate (${c.chainLength} in chain, from ${c.source === 'certificate-message' ? 'the TLS Certificate message' : 'a node:tls handshake'})`);
    out.push(`  subject:    ${forTerminal(c.subject, 200)}`);
    out.push(`  SANs:       ${forTerminal(c.sans.join(', '), 300) || '(none)'}`);
    out.push(`  issuer:     ${forTerminal(c.issuer, 200)}`);
    out.push(`  key:        ${c.keyType ?? 'unknown'} ${c.keyBits ?? '?'} bits${c.curve ? ` (${c.curve})` : ''}`);
    out.push(`  signature:  ${c.signatureAlgorithm}`);
    out.push(`  valid:      ${c.notBefore} .. ${c.notAfter}${c.validNow ? '' : '  NOT VALID NOW'}`);
    for (const [i, x] of c.chain.slice(1).entries()) out.push(`  chain[${i + 1}]:   ${forTerminal(x.subject, 200)} (${x.keyType ?? '?'} ${x.keyBits ?? '?'}, ${x.signatureAlgorithm})`);
  }
  const f = r.features;
  out.push('');
  out.push('Features');
  out.push(`  secure renegotiation (RFC 5746):   ${yesNo(f.secureRenegotiation)}`);
  out.push(`  client-initiated renegotiation:    ${f.clientRenegotiation ? (f.clientRenegotiation.accepted ? 'ACCEPTED (finding)' : 'refused') : 'not tested'}`);
  out.push(`  compression (DEFLATE offered):     ${yesNo(f.compression, 'CHOSEN (finding, CRIME)', 'not chosen')}`);
  out.push(`  extended master secret (RFC 7627): ${yesNo(f.extendedMasterSecret)}`);
  const fallbackUnknown = r.scope === 'enumeration' ? 'not tested (scope enumeration)' : 'not applicable (one version)';
  out.push(`  TLS_FALLBACK_SCSV honoured:        ${yesNo(f.fallbackScsv, 'yes', 'NO (finding)', fallbackUnknown)}`);
  if (f.sessionResumption) {
    const s = f.sessionResumption;
    out.push(`  session resumption (${s.protocol}):    id ${yesNo(s.id, 'yes', 'no', 'n/a')}, ticket ${yesNo(s.ticket, 'yes', 'no', 'n/a')}`);
  } else out.push('  session resumption:                not tested');
  if (r.starttls) {
    const s = r.starttls;
    out.push('');
    out.push(r.mode === 'starttls' ? 'STARTTLS dialogue' : 'SMTP inside TLS');
    if (s.capabilitiesBefore) out.push(`  EHLO before TLS: ${forTerminal(s.capabilitiesBefore.join(', '), 400)}`);
    if (s.capabilitiesAfter) out.push(`  EHLO after TLS:  ${forTerminal(s.capabilitiesAfter.join(', '), 400)}`);
    if (s.authBeforeTls) out.push(`  AUTH offered before TLS: ${forTerminal(s.authMechanismsBeforeTls.join(' '), 200)} (finding: credentials could be sent in clear)`);
    else if (s.authBeforeTls === false) out.push('  AUTH not offered before TLS');
  }
  const failed = Object.entries(r.featureStatus).filter(([, st]) => st.status === 'failed');
  if (failed.length > 0) {
    out.push('');
    out.push('Not determined (each feature failed on its own; everything above was found)');
    for (const [name, st] of failed) {
      for (const e of st.errors) out.push(`  - ${name}${e.version ? ` ${e.version}` : ''}: ${e.code}${e.stage ? ` at ${e.stage}` : ''}: ${forTerminal(e.message, 400)}`);
    }
  }
  if (r.warnings.length > 0) {
    out.push('');
    out.push('Warnings');
    for (const w of r.warnings) out.push(`  - ${forTerminal(w, 400)}`);
  }
  out.push('');
  out.push(
    `${r.connections} connections (${r.helloAttempts} ClientHellos, ${r.completeHandshakes} complete handshakes), ${r.retries} retries, ${r.throttles} throttle signals, at most ${r.peakConcurrency} at once, ${r.durationMs} ms`,
  );
  return out;
}
