import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabError } from '../core/errors.js';
import { run, type ExecResult } from '../core/exec.js';
import { byCode, byIanaName, byOpenSslName, groupByName, PROBE_VERSIONS, type ProbeVersion } from './cipher-suites.js';
import type { ProbeMode } from './starttls-transport.js';

/**
 * The probe's oracles: sslscan (Debian package `sslscan`) and testssl.sh (`testssl.sh`,
 * command `testssl`), run on the host against a lab container's address, and their output
 * parsed into one shape so a test can compare them with probe field by field.
 *
 * Parsers take the tools' real output (XML and text from sslscan, the flat JSON file from
 * testssl) and are tested on captured files under harness/tests/golden/oracles/. Nothing here
 * decides who is right: the truth test does, with evidence.
 */

export type OracleName = 'sslscan' | 'testssl';

export interface OracleFindings {
  readonly tool: OracleName;
  readonly version: string | null;
  /** Versions the tool reported on; SSLv2 too when it tested it. A version it did not report is absent. */
  readonly protocols: Readonly<Partial<Record<ProbeVersion | 'SSLv2', boolean>>>;
  /** Accepted suites per version as IANA codes, ascending; every version present ([] when none). */
  readonly ciphersByProtocol: Readonly<Record<ProbeVersion, readonly number[]>>;
  /** Key exchange groups as IANA codes, ascending: union, and per version where the tool says. */
  readonly groups: readonly number[];
  readonly groupsByProtocol: Readonly<Partial<Record<ProbeVersion, readonly number[]>>>;
  /** Group names the parser could not map to a code (kept so a test can fail loudly). */
  readonly unknownGroups: readonly string[];
  /** DHE prime sizes the tool saw (sslscan per suite) or the named DH groups it identified (testssl DH_groups). */
  readonly dhe: { readonly bits: readonly number[]; readonly named: readonly string[] };
  /** The suite each version's server preferred, when the tool says (sslscan "Preferred"). */
  readonly preferred: Readonly<Partial<Record<ProbeVersion, number>>>;
  /** Whether the server imposes its own cipher order (testssl -P "cipher_order"); null when the tool did not say. */
  readonly cipherOrder: 'server' | 'client' | null;
  /** The server's order per version, most preferred first, as IANA codes (testssl -P "cipherorder_<version>", only with server order). */
  readonly serverOrderByProtocol: Readonly<Partial<Record<ProbeVersion, readonly number[]>>>;
  /** Feature verdicts in the tool's own terms (null = not reported or not testable by the tool). */
  readonly features: {
    readonly fallbackScsv: boolean | null;
    readonly secureRenegotiation: boolean | null;
    readonly clientRenegotiation: boolean | null;
    readonly compression: boolean | null;
    readonly sessionResumptionTicket: boolean | null;
    readonly sessionResumptionId: boolean | null;
  };
  readonly certificate: {
    readonly signatureAlgorithm: string | null;
    readonly keyType: string | null;
    readonly keyBits: number | null;
    readonly subject: string | null;
    readonly altNames: string | null;
  } | null;
  /** Suite names the parser could not map to a code. */
  readonly unknownSuites: readonly string[];
}

function emptyCiphers(): Record<ProbeVersion, number[]> {
  return Object.fromEntries(PROBE_VERSIONS.map((v) => [v, [] as number[]])) as unknown as Record<ProbeVersion, number[]>;
}

const sortUnique = (xs: Iterable<number>): number[] => [...new Set(xs)].sort((a, b) => a - b);

function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w-]+)="([^"]*)"/g)) out[m[1]!] = m[2]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return out;
}

/** sslscan's version labels: "TLSv1.0" in cipher lines, type/version attributes in protocol elements. */
const SSLSCAN_VERSIONS: Readonly<Record<string, ProbeVersion | 'SSLv2'>> = {
  SSLv2: 'SSLv2',
  SSLv3: 'SSLv3',
  'TLSv1.0': 'TLSv1',
  'TLSv1.1': 'TLSv1.1',
  'TLSv1.2': 'TLSv1.2',
  'TLSv1.3': 'TLSv1.3',
  'ssl 2': 'SSLv2',
  'ssl 3': 'SSLv3',
  'tls 1.0': 'TLSv1',
  'tls 1.1': 'TLSv1.1',
  'tls 1.2': 'TLSv1.2',
  'tls 1.3': 'TLSv1.3',
};

function cdata(xml: string, element: string): string | null {
  const m = new RegExp(`<${element}>(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))</${element}>`).exec(xml);
  return m ? (m[1] ?? m[2] ?? '').trim() : null;
}

/**
 * Parse `sslscan --xml=FILE` (and, for what the XML leaves out in 2.0.x, the text report on
 * stdout: fallback SCSV and compression).
 */
export function parseSslscan(xml: string, text = ''): OracleFindings {
  if (!/<document[^>]*title="SSLScan Results"/.test(xml)) throw new LabError('ETOOL', 'sslscan output is not an SSLScan XML document');
  const version = /<document[^>]*version="([^"]+)"/.exec(xml)?.[1] ?? null;
  const protocols: Partial<Record<ProbeVersion | 'SSLv2', boolean>> = {};
  for (const m of xml.matchAll(/<protocol\s[^>]*\/>/g)) {
    const a = attrs(m[0]);
    const v = SSLSCAN_VERSIONS[`${a.type} ${a.version}`];
    if (v) protocols[v] = a.enabled === '1';
  }
  const ciphers = emptyCiphers();
  const preferred: Partial<Record<ProbeVersion, number>> = {};
  const dheBits = new Set<number>();
  const unknownSuites: string[] = [];
  for (const m of xml.matchAll(/<cipher\s[^>]*\/>/g)) {
    const a = attrs(m[0]);
    const v = SSLSCAN_VERSIONS[a.sslversion ?? ''];
    if (!v || v === 'SSLv2') continue;
    const code = a.id ? Number.parseInt(a.id, 16) : (byOpenSslName(a.cipher ?? '') ?? byIanaName(a.cipher ?? ''))?.code;
    if (code === undefined || Number.isNaN(code)) {
      unknownSuites.push(`${a.sslversion} ${a.cipher}`);
      continue;
    }
    ciphers[v].push(code);
    if (a.status === 'preferred') preferred[v] = code;
    if (a.dhebits) dheBits.add(Number(a.dhebits));
  }
  const groupsByProtocol: Partial<Record<ProbeVersion, number[]>> = {};
  const unknownGroups: string[] = [];
  for (const m of xml.matchAll(/<group\s[^>]*\/>/g)) {
    const a = attrs(m[0]);
    const v = SSLSCAN_VERSIONS[a.sslversion ?? ''];
    const code = a.id ? Number.parseInt(a.id, 16) : undefined;
    if (!v || v === 'SSLv2' || code === undefined || Number.isNaN(code)) {
      unknownGroups.push(`${a.sslversion} ${a.name}`);
      continue;
    }
    (groupsByProtocol[v] ??= []).push(code);
  }
  const reneg = /<renegotiation\s[^>]*\/>/.exec(xml);
  const r = reneg ? attrs(reneg[0]) : null;
  const compressionEl = /<compression\s[^>]*\/>/.exec(xml);
  let compression: boolean | null = compressionEl ? attrs(compressionEl[0]).supported === '1' : null;
  if (compression === null && /Compression enabled/i.test(text)) compression = true;
  if (compression === null && /Compression disabled/i.test(text)) compression = false;
  let fallbackScsv: boolean | null = null;
  if (/Server does not support TLS Fallback SCSV/i.test(text)) fallbackScsv = false;
  else if (/Server supports TLS Fallback SCSV/i.test(text)) fallbackScsv = true;
  const fallbackEl = /<fallback\s[^>]*\/>/.exec(xml);
  if (fallbackEl) fallbackScsv = attrs(fallbackEl[0]).supported === '1';

  const certXml = /<certificate type="short">([\s\S]*?)<\/certificate>/.exec(xml)?.[1] ?? null;
  const pk = certXml ? /<pk\s[^>]*\/>/.exec(certXml) : null;
  const pka = pk ? attrs(pk[0]) : null;
  const all = Object.values(groupsByProtocol).flat();
  return {
    tool: 'sslscan',
    version,
    protocols,
    ciphersByProtocol: Object.fromEntries(PROBE_VERSIONS.map((v) => [v, sortUnique(ciphers[v])])) as Record<ProbeVersion, number[]>,
    groups: sortUnique(all),
    groupsByProtocol: Object.fromEntries(Object.entries(groupsByProtocol).map(([k, v]) => [k, sortUnique(v)])),
    unknownGroups,
    dhe: { bits: sortUnique(dheBits), named: [] },
    preferred,
    cipherOrder: null,
    serverOrderByProtocol: {},
    features: {
      fallbackScsv,
      // sslscan's <renegotiation secure=…> is its own handshake's verdict; see the truth test for when it misleads.
      secureRenegotiation: r ? r.secure === '1' : null,
      clientRenegotiation: null,
      compression,
      sessionResumptionTicket: null,
      sessionResumptionId: null,
    },
    // sslscan writes an empty <certificate> when it could not fetch or parse one ("Unable to parse certificate").
    certificate: certXml && (pka || cdata(certXml, 'subject') !== null)
      ? {
          signatureAlgorithm: cdata(certXml, 'signature-algorithm'),
          keyType: pka?.type ?? null,
          keyBits: pka?.bits ? Number(pka.bits) : null,
          subject: cdata(certXml, 'subject'),
          altNames: cdata(certXml, 'altnames'),
        }
      : null,
    unknownSuites,
  };
}

interface TestsslEntry {
  readonly id: string;
  readonly finding: string;
  readonly severity?: string;
}

/** testssl's protocol ids. */
const TESTSSL_PROTOCOLS: Readonly<Record<string, ProbeVersion | 'SSLv2'>> = { SSLv2: 'SSLv2', SSLv3: 'SSLv3', TLS1: 'TLSv1', TLS1_1: 'TLSv1.1', TLS1_2: 'TLSv1.2', TLS1_3: 'TLSv1.3' };
/** The protocol part of testssl's cipher-<proto>_x<hex> ids. */
const TESTSSL_CIPHER_PROTOCOLS: Readonly<Record<string, ProbeVersion>> = { ssl3: 'SSLv3', tls1: 'TLSv1', tls1_1: 'TLSv1.1', tls1_2: 'TLSv1.2', tls1_3: 'TLSv1.3' };

/** Group names as testssl prints them, where groupByName does not know the spelling. */
const TESTSSL_GROUP_ALIASES: Readonly<Record<string, string>> = { prime256v1: 'secp256r1', prime192v1: 'secp192r1', X25519: 'x25519', X448: 'x448' };

function testsslEntries(json: string): TestsslEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new LabError('ETOOL', `testssl JSON file is not valid JSON (was the run cut short?): ${(e as Error).message}`);
  }
  if (!Array.isArray(raw)) throw new LabError('ETOOL', 'testssl JSON file is not the flat format (an array of findings); run it with --jsonfile, not --jsonfile-pretty');
  return raw.filter((x): x is TestsslEntry => !!x && typeof x === 'object' && typeof (x as TestsslEntry).id === 'string' && typeof (x as TestsslEntry).finding === 'string');
}

/** Sizes of the MODP groups testssl names by RFC 2409 / RFC 3526 group number. */
const OAKLEY_BITS: Readonly<Record<number, number>> = { 1: 768, 2: 1024, 5: 1536, 14: 2048, 15: 3072, 16: 4096, 17: 6144, 18: 8192 };

/** Parse testssl.sh's flat JSON (`--jsonfile FILE`). */
export function parseTestsslJson(json: string): OracleFindings {
  const entries = testsslEntries(json);
  const find = (...ids: string[]) => entries.find((e) => ids.includes(e.id))?.finding ?? null;
  const protocols: Partial<Record<ProbeVersion | 'SSLv2', boolean>> = {};
  for (const e of entries) {
    const v = TESTSSL_PROTOCOLS[e.id];
    if (!v) continue;
    if (/^not offered/i.test(e.finding)) protocols[v] = false;
    else if (/^offered/i.test(e.finding)) protocols[v] = true;
  }
  const ciphers = emptyCiphers();
  const unknownSuites: string[] = [];
  for (const e of entries) {
    const m = /^cipher-(ssl3|tls1|tls1_1|tls1_2|tls1_3)_x([0-9a-f]+)$/i.exec(e.id);
    if (!m) continue;
    const v = TESTSSL_CIPHER_PROTOCOLS[m[1]!.toLowerCase()]!;
    const hex = m[2]!;
    if (hex.length > 4) {
      unknownSuites.push(e.id); // an SSLv2-style three-byte code: not a TLS suite
      continue;
    }
    ciphers[v].push(Number.parseInt(hex, 16));
  }
  const unknownGroups: string[] = [];
  const curves = find('PFS_ECDHE_curves', 'FS_ECDHE_curves');
  const groups: number[] = [];
  for (const name of (curves ?? '').split(/\s+/).filter(Boolean)) {
    const g = groupByName(TESTSSL_GROUP_ALIASES[name] ?? name);
    if (g) groups.push(g.code);
    else unknownGroups.push(name);
  }
  const dhGroups = find('DH_groups');
  const named = (dhGroups ?? '').split(/\s+/).filter((x) => /^ffdhe\d+$/.test(x));
  const dheBits = named.map((x) => Number(x.slice(5)));
  // testssl also names well-known non-RFC 7919 primes ("RFC3526/Oakley Group 14" …): keep the text, and the size where the group is known.
  if (dhGroups && named.length === 0) {
    named.push(dhGroups);
    const oakley = /RFC(2409|3526)\/Oakley Group (\d+)/.exec(dhGroups);
    const bits = oakley ? OAKLEY_BITS[Number(oakley[2])] : undefined;
    if (bits) dheBits.push(bits);
  }

  // -P: "server" or "NOT a cipher order configured", and with server order the list per version.
  const orderFinding = find('cipher_order');
  const cipherOrder = orderFinding === null ? null : /^server/i.test(orderFinding) ? 'server' : /^NOT a cipher order/i.test(orderFinding) ? 'client' : null;
  if (orderFinding !== null && cipherOrder === null) unknownSuites.push(`cipher_order: ${orderFinding}`);
  const serverOrderByProtocol: Partial<Record<ProbeVersion, number[]>> = {};
  for (const e of entries) {
    const m = /^cipherorder_(SSLv3|TLSv1|TLSv1_1|TLSv1_2|TLSv1_3)$/.exec(e.id);
    if (!m) continue;
    const v = ({ SSLv3: 'SSLv3', TLSv1: 'TLSv1', TLSv1_1: 'TLSv1.1', TLSv1_2: 'TLSv1.2', TLSv1_3: 'TLSv1.3' } as const)[m[1] as 'SSLv3' | 'TLSv1' | 'TLSv1_1' | 'TLSv1_2' | 'TLSv1_3'];
    const codes: number[] = [];
    for (const name of e.finding.split(/\s+/).filter(Boolean)) {
      const suite = byOpenSslName(name) ?? byIanaName(name);
      if (suite) codes.push(suite.code);
      else unknownSuites.push(`${e.id} ${name}`);
    }
    serverOrderByProtocol[v] = codes;
  }

  const yes = (f: string | null, pos: RegExp, neg: RegExp): boolean | null => (f === null ? null : neg.test(f) ? false : pos.test(f) ? true : null);
  const certKey = find('cert_keySize');
  const keyBits = certKey ? Number(/(\d+)\s*bits?/.exec(certKey)?.[1] ?? NaN) : NaN;
  const certSig = find('cert_signatureAlgorithm');
  const version = entries.find((e) => e.id === 'version')?.finding ?? null;
  return {
    tool: 'testssl',
    version,
    protocols,
    ciphersByProtocol: Object.fromEntries(PROBE_VERSIONS.map((v) => [v, sortUnique(ciphers[v])])) as Record<ProbeVersion, number[]>,
    groups: sortUnique(groups),
    groupsByProtocol: {},
    unknownGroups,
    dhe: { bits: sortUnique(dheBits), named },
    preferred: {},
    cipherOrder,
    serverOrderByProtocol,
    features: {
      fallbackScsv: yes(find('fallback_SCSV'), /^supported/i, /not supported|^NOT/i),
      secureRenegotiation: yes(find('secure_renego'), /supported/i, /not supported|^NOT/i),
      clientRenegotiation: yes(find('secure_client_renego'), /vulnerable/i, /not vulnerable/i),
      compression: yes(find('CRIME_TLS'), /vulnerable/i, /not vulnerable/i),
      sessionResumptionTicket: yes(find('sessionresumption_ticket'), /^supported/i, /not supported/i),
      sessionResumptionId: yes(find('sessionresumption_ID'), /^supported/i, /not supported/i),
    },
    certificate:
      certKey || certSig
        ? {
            signatureAlgorithm: certSig,
            keyType: certKey ? (/^(\w+)/.exec(certKey)?.[1] ?? null) : null,
            keyBits: Number.isNaN(keyBits) ? null : keyBits,
            subject: find('cert_commonName'),
            altNames: find('cert_subjectAltName'),
          }
        : null,
    unknownSuites,
  };
}

/** A suite code as both tools would name it, for messages. */
export function suiteName(code: number): string {
  const s = byCode(code);
  return s ? `${s.openssl ?? s.iana} (0x${code.toString(16).padStart(4, '0')})` : `0x${code.toString(16).padStart(4, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Running the tools.

export interface OracleTarget {
  readonly host: string;
  readonly port: number;
  readonly mode: ProbeMode;
}

export type OracleRun =
  | { readonly status: 'ok'; readonly tool: OracleName; readonly findings: OracleFindings; readonly ms: number; readonly command: readonly string[]; readonly raw: { readonly stdout: string; readonly file: string } }
  | { readonly status: 'unavailable' | 'failed'; readonly tool: OracleName; readonly reason: string; readonly ms: number; readonly command: readonly string[] };

export interface OracleTools {
  readonly sslscan: string | null;
  readonly testssl: string | null;
  /** Why a tool is missing (install attempted and failed, not root …). */
  readonly problems: readonly string[];
}

async function which(cmd: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}

async function findTools(): Promise<{ sslscan: string | null; testssl: string | null }> {
  return { sslscan: await which('sslscan'), testssl: (await which('testssl')) ?? (await which('testssl.sh')) };
}

/** The Debian packages of the oracles, and the commands they install. */
export const ORACLE_PACKAGES: readonly string[] = Object.freeze(['sslscan', 'testssl.sh']);

/**
 * sslscan and testssl, installed from the distribution when missing and we are root:
 * `apt-get install -y sslscan testssl.sh`, and when that fails (a fresh machine has no package
 * lists yet, or stale ones) `apt-get update` and the install again. apt waits for the dpkg
 * lock (another install may be running, e.g. the engine's docker.io) instead of failing at
 * once. Never throws: a tool that cannot be had is null, with every step's reason in problems.
 */
export async function ensureOracleTools(opts: { install?: boolean; timeoutMs?: number } = {}): Promise<OracleTools> {
  let found = await findTools();
  const problems: string[] = [];
  const missing = () => [...(found.sslscan ? [] : ['sslscan']), ...(found.testssl ? [] : ['testssl'])];
  if (missing().length === 0 || opts.install === false) {
    for (const m of missing()) problems.push(`${m} is not installed`);
    return { ...found, problems };
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    problems.push(`${missing().join(' and ')} missing and not root: install them with apt-get install -y ${ORACLE_PACKAGES.join(' ')}`);
    return { ...found, problems };
  }
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: readonly string[]) => run('apt-get', ['-o', 'DPkg::Lock::Timeout=120', ...args], { timeoutMs, env });
  const tail = (r: ExecResult) => `${r.stderr || r.stdout}`.trim().split('\n').slice(-3).join(' / ');
  const install = () => apt(['install', '-y', '--no-install-recommends', ...ORACLE_PACKAGES]);
  let r = await install();
  if (r.code !== 0) {
    const first = r;
    const update = await apt(['update']);
    if (update.code !== 0) problems.push(`apt-get update failed (exit ${update.code}): ${tail(update)}`);
    r = await install();
    if (r.code !== 0) problems.push(`apt-get install -y ${ORACLE_PACKAGES.join(' ')} failed before (exit ${first.code}: ${tail(first)}) and after apt-get update (exit ${r.code}): ${tail(r)}`);
  }
  found = await findTools();
  for (const m of missing()) problems.push(`${m} is still missing after the install`);
  return { ...found, problems: missing().length === 0 ? [] : problems };
}

/** testssl.sh runs many openssl children: a timeout must kill its whole process group. */
function runGroup(cmd: string, args: readonly string[], timeoutMs: number): Promise<ExecResult> {
  return run(cmd, args, { timeoutMs, killGroup: true, maxOutput: 8 * 1024 * 1024, env: { ...process.env, TERM: 'dumb' } });
}

function hostPort(t: OracleTarget): string {
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

/** `sslscan [--starttls-smtp] --no-colour --xml=FILE HOST:PORT` with extra flags (e.g. --no-heartbleed). */
export async function runSslscan(target: OracleTarget, opts: { binary?: string; extraArgs?: readonly string[]; timeoutMs?: number } = {}): Promise<OracleRun> {
  const bin = opts.binary ?? (await which('sslscan'));
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-sslscan-'));
  const xmlFile = path.join(tmp, 'sslscan.xml');
  const args = [...(target.mode === 'starttls' ? ['--starttls-smtp'] : []), '--no-colour', `--xml=${xmlFile}`, ...(opts.extraArgs ?? []), hostPort(target)];
  const command = ['sslscan', ...args];
  try {
    if (!bin) return { status: 'unavailable', tool: 'sslscan', reason: 'sslscan is not installed (apt-get install -y sslscan)', ms: 0, command };
    const r = await runGroup(bin, args, opts.timeoutMs ?? 120_000);
    const ms = Date.now() - started;
    if (r.timedOut) return { status: 'failed', tool: 'sslscan', reason: `sslscan did not finish within ${opts.timeoutMs ?? 120_000} ms`, ms, command };
    const xml = fs.existsSync(xmlFile) ? fs.readFileSync(xmlFile, 'utf8') : '';
    if (r.code !== 0 || !xml) return { status: 'failed', tool: 'sslscan', reason: `sslscan exit ${r.code}: ${(r.stderr || r.stdout).trim().slice(-500)}`, ms, command };
    return { status: 'ok', tool: 'sslscan', findings: parseSslscan(xml, r.stdout), ms, command, raw: { stdout: r.stdout, file: xml } };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** testssl's flags for the probe's enumeration scope: protocols, ciphers per protocol, forward secrecy (curves, DH groups). */
export const TESTSSL_ENUMERATION_FLAGS: readonly string[] = Object.freeze(['-p', '-E', '-f']);

/** testssl's server preferences (-P): whether the server orders, and its order per version. */
export const TESTSSL_ORDER_FLAGS: readonly string[] = Object.freeze(['-P']);

/** testssl's feature checks: renegotiation (-R), compression/CRIME (-C), server defaults incl. resumption (-S), TLS_FALLBACK_SCSV (-Z). */
export const TESTSSL_FEATURE_FLAGS: readonly string[] = Object.freeze(['-S', '-R', '-C', '-Z']);

/** `testssl --quiet --color 0 --warnings off -n none [--starttls smtp] FLAGS --jsonfile FILE HOST:PORT`. */
export async function runTestssl(target: OracleTarget, opts: { binary?: string; flags?: readonly string[]; timeoutMs?: number } = {}): Promise<OracleRun> {
  const bin = opts.binary ?? (await which('testssl')) ?? (await which('testssl.sh'));
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-testssl-'));
  const jsonFile = path.join(tmp, 'testssl.json');
  // -n none: no DNS lookups at all; the target is an address.
  const args = ['--quiet', '--color', '0', '--warnings', 'off', '-n', 'none', ...(target.mode === 'starttls' ? ['--starttls', 'smtp'] : []), ...(opts.flags ?? TESTSSL_ENUMERATION_FLAGS), '--jsonfile', jsonFile, hostPort(target)];
  const command = ['testssl', ...args];
  try {
    if (!bin) return { status: 'unavailable', tool: 'testssl', reason: 'testssl is not installed (apt-get install -y testssl.sh)', ms: 0, command };
    const timeoutMs = opts.timeoutMs ?? 300_000;
    const r = await runGroup(bin, args, timeoutMs);
    const ms = Date.now() - started;
    if (r.timedOut) return { status: 'failed', tool: 'testssl', reason: `testssl did not finish within ${timeoutMs} ms`, ms, command };
    const json = fs.existsSync(jsonFile) ? fs.readFileSync(jsonFile, 'utf8') : '';
    if (!json) return { status: 'failed', tool: 'testssl', reason: `testssl exit ${r.code} and no JSON file: ${(r.stderr || r.stdout).trim().slice(-500)}`, ms, command };
    // testssl exits non-zero when it has findings of some severity; the JSON decides whether the run finished.
    return { status: 'ok', tool: 'testssl', findings: parseTestsslJson(json), ms, command, raw: { stdout: r.stdout, file: json } };
  } catch (e) {
    return { status: 'failed', tool: 'testssl', reason: e instanceof Error ? e.message : String(e), ms: Date.now() - started, command };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
