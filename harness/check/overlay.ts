import fs from 'node:fs';
import path from 'node:path';
import type { KeySpec } from '../certs/lab-pki.js';
import { LabError } from '../core/errors.js';
import { GUARD_PARAMETERS } from '../postfix/effective-config.js';
import { parseMainCf, type MainCfItem } from '../postfix/main-cf.js';
import { parseMasterCf, type MasterCfEntry } from '../postfix/master-cf.js';
import { CONTAINER_PATHS } from '../postfix/paths.js';
import type { CertificateSpec, MapSpec } from '../scenario/types.js';

/**
 * Bring-your-own config: the user's main.cf, master.cf and map files from one folder, laid
 * into the lab unchanged except for a visible overlay. Every replacement is one OverlayEntry
 * (parameter, where, what it said, what the lab runs, why), printed and stored in the report.
 *
 * - certificate and key paths become lab-generated files (the same key types: RSA unless the
 *   file or parameter says ec/ecdsa; one certificate per distinct cert/key pair);
 * - the CA file becomes the lab CA, DH parameter files the lab's RFC 7919 group;
 * - map files named by `type:/path` are taken from the folder by base name and built with
 *   postmap in the lab's map folder; a map the folder lacks is a problem (named with the
 *   parameter that wants it) and gets an empty stand-in so the rest still runs;
 * - the lab guard's parameters (maillog_file, relayhost, transports) are the lab's;
 * - listening addresses become the lab's (inet_interfaces = all, no host in master.cf);
 * - a SASL backend the lab does not run (dovecot) becomes the lab's Cyrus sasldb.
 */
export interface OverlayEntry {
  readonly parameter: string;
  /** "main.cf, line 12" or "master.cf, line 20 (submission -o)". */
  readonly where: string;
  readonly from: string;
  readonly to: string;
  readonly why: string;
}

/** A user file the lab cannot use as given: named with the parameter that wants it. */
export interface InputProblem {
  readonly parameter: string;
  readonly where: string;
  readonly message: string;
}

export interface OverlaidConfig {
  readonly dir: string;
  readonly mainCf: { readonly file: string; readonly text: string };
  readonly masterCf: { readonly file: string; readonly text: string } | null;
  readonly maps: readonly MapSpec[];
  readonly certificates: readonly CertificateSpec[];
  readonly saslUsers: readonly string[];
  readonly overlay: readonly OverlayEntry[];
  readonly problems: readonly InputProblem[];
}

const LAB_TLS = CONTAINER_PATHS.tls;
const LAB_CA = `${LAB_TLS}/lab-ca.crt`;
const LAB_DH = `${CONTAINER_PATHS.dh}/ffdhe4096.pem`;
const MAX_FILE_BYTES = 256 * 1024;
/** The lab's SASL user when the config enables AUTH (so that Cyrus offers mechanisms); its password is made per run. */
export const CHECK_SASL_USER = 'check@lab.test';

/** Certificate/key parameters, paired: which parameter holds the certificate, which its key, and the key type it implies. */
const CERT_PAIRS = [
  { prefix: 'smtpd', cert: 'smtpd_tls_cert_file', key: 'smtpd_tls_key_file', ec: false },
  { prefix: 'smtpd', cert: 'smtpd_tls_eccert_file', key: 'smtpd_tls_eckey_file', ec: true },
  { prefix: 'smtpd', cert: 'smtpd_tls_dcert_file', key: 'smtpd_tls_dkey_file', ec: false },
  { prefix: 'smtp', cert: 'smtp_tls_cert_file', key: 'smtp_tls_key_file', ec: false },
  { prefix: 'smtp', cert: 'smtp_tls_eccert_file', key: 'smtp_tls_eckey_file', ec: true },
] as const;
const CHAIN_FILES = ['smtpd_tls_chain_files', 'smtp_tls_chain_files'];
const CA_FILES = ['smtpd_tls_CAfile', 'smtp_tls_CAfile', 'lmtp_tls_CAfile'];
const CA_PATHS = ['smtpd_tls_CApath', 'smtp_tls_CApath', 'lmtp_tls_CApath'];
const DH_FILES = ['smtpd_tls_dh1024_param_file', 'smtpd_tls_dh512_param_file'];
/** Files Postfix makes itself (caches), never user maps. */
const OWN_DATABASES = /_cache_database$|^data_directory$|^queue_directory$/;
/** Local delivery tables a mail server always names; check judges TLS, not local delivery. */
const LOCAL_DELIVERY = ['alias_maps', 'alias_database'];
const MAP_REF = /\b(hash|btree|cdb|lmdb|texthash|regexp|pcre|cidr|dbm|sdbm|mysql|pgsql|ldap|sqlite|memcache):(\/[^\s,]+)/g;
const POSTMAP_TYPES = new Set(['hash', 'btree', 'cdb', 'lmdb']);
const mentionsEc = (s: string) => /(^|[^a-z])(ec|ecc|ecdsa|p256|p-256|secp256r1|prime256v1)([^a-z]|$)/i.test(s);

/** Read DIR: main.cf is required; a folder without one is named with what was looked for. */
export function readConfigDir(dir: string): { mainCf: { file: string; text: string }; masterCf: { file: string; text: string } | null; files: ReadonlyMap<string, string> } {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new LabError('EUSAGE', `check: --postfix-config ${dir}: not a folder (looked for ${abs})`, { detail: 'remedy: name the folder that holds your main.cf (and optionally master.cf and the map files it names)' });
  const mainFile = path.join(abs, 'main.cf');
  if (!fs.existsSync(mainFile)) {
    const there = fs.readdirSync(abs).filter((f) => !f.startsWith('.'));
    throw new LabError('EUSAGE', `check: no main.cf in ${abs} (looked for ${mainFile})`, {
      detail: `remedy: copy your Postfix main.cf (and master.cf, and the map files it names) into the folder; it holds: ${there.length ? there.join(', ') : 'nothing'}`,
    });
  }
  const read = (f: string) => {
    const buf = fs.readFileSync(f);
    if (buf.length > MAX_FILE_BYTES) throw new LabError('EUSAGE', `check: ${f} has ${buf.length} bytes; a Postfix file this large is not what you meant to give (at most ${MAX_FILE_BYTES})`);
    if (buf.includes(0)) throw new LabError('EUSAGE', `check: ${f} contains NUL bytes: it is binary (give the text source of a map, not its .db)`);
    return buf.toString('utf8');
  };
  const masterFile = path.join(abs, 'master.cf');
  const files = new Map<string, string>();
  for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
    if (!e.isFile() || e.name.startsWith('.') || e.name === 'main.cf' || e.name === 'master.cf' || /\.(db|lmdb|cdb)$/.test(e.name)) continue;
    files.set(e.name, read(path.join(abs, e.name)));
  }
  return { mainCf: { file: mainFile, text: read(mainFile) }, masterCf: fs.existsSync(masterFile) ? { file: masterFile, text: read(masterFile) } : null, files };
}

/** A lab certificate name from a user path: its base name without extension, made safe and unique. */
function certName(file: string, taken: Set<string>): string {
  const base = path.posix.basename(file).replace(/\.(pem|crt|cer|key)$/i, '').replace(/[^A-Za-z0-9_-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'server';
  let name = base.slice(0, 40);
  for (let i = 2; taken.has(name); i++) name = `${base.slice(0, 36)}-${i}`;
  taken.add(name);
  return name;
}

interface Param {
  readonly name: string;
  /** The value with $config_directory expanded (what paths are read from). */
  readonly value: string;
  /** The value as the user wrote it (what the overlay shows). */
  readonly written?: string;
  readonly where: string;
}
/** A -o override of one master.cf entry. */
interface Override extends Param {
  readonly entry: MasterCfEntry;
}
/** Where a parameter is set: main.cf, or a service's -o. */
type Place = { readonly kind: 'main'; readonly p: Param } | { readonly kind: 'override'; readonly p: Override };

/** Lay the lab's overlay over the user's files. Pure apart from reading nothing: DIR was read by readConfigDir. */
export function overlayConfig(input: ReturnType<typeof readConfigDir>, dir: string): OverlaidConfig {
  const overlay: OverlayEntry[] = [];
  const problems: InputProblem[] = [];
  const items = parseMainCf(input.mainCf.text, 'main.cf');
  const master = input.masterCf ? parseMasterCf(input.masterCf.text, 'master.cf') : [];
  const mainParams = new Map<string, Param>();
  // $config_directory is the one variable a path commonly starts with; the lab's is /etc/postfix too.
  const expand = (v: string) => v.replace(/\$\{?config_directory\}?/g, '/etc/postfix');
  for (const i of items) if (i.kind === 'param') mainParams.set(i.name, { name: i.name, value: expand(i.value), written: i.value, where: `main.cf, line ${i.line}` });
  const overrides: Override[] = master.flatMap((e) =>
    [...e.text.matchAll(/-o\s+\{?\s*([A-Za-z0-9_]+)\s*=\s*([^\s}]*)\}?/g)].map((m) => ({ entry: e, name: m[1]!, value: expand(m[2]!), written: m[2]!, where: `master.cf, line ${e.line} (${e.service} -o)` })),
  );

  // New values by (where, parameter); a null value removes the line.
  const mainSet = new Map<string, string | null>();
  const masterSet = new Map<string, Map<string, string | null>>(); // entry key -> name -> value
  const setMain = (p: Param, to: string | null, why: string) => {
    mainSet.set(p.name, to);
    overlay.push({ parameter: p.name, where: p.where, from: p.written ?? p.value, to: to ?? '(removed)', why });
  };
  const setOverride = (o: Override, to: string | null, why: string) => {
    const key = `${o.entry.service}/${o.entry.type}`;
    const m = masterSet.get(key) ?? new Map<string, string | null>();
    m.set(o.name, to);
    masterSet.set(key, m);
    overlay.push({ parameter: o.name, where: o.where, from: o.written ?? o.value, to: to ?? '(removed)', why });
  };
  const each = (name: string): Place[] => [...(mainParams.has(name) ? [{ kind: 'main' as const, p: mainParams.get(name)! }] : []), ...overrides.filter((o) => o.name === name).map((o) => ({ kind: 'override' as const, p: o }))];
  const set = (x: Place, to: string | null, why: string) => (x.kind === 'main' ? setMain(x.p, to, why) : setOverride(x.p, to, why));

  // 1. The guard: the lab's log and mail routing.
  for (const g of GUARD_PARAMETERS) for (const x of each(g)) set(x, null, 'the lab guard sets it (log on stdout for the harness, no mail leaves the lab)');

  // 2. Listening addresses.
  for (const x of each('inet_interfaces')) if (x.p.value !== 'all') set(x, 'all', 'the lab container has only its lab address');
  for (const x of each('inet_protocols')) if (x.p.value !== 'ipv4') set(x, 'ipv4', 'lab networks are IPv4 only');
  for (const x of each('proxy_interfaces')) set(x, null, 'no proxy in front of the lab');

  // 3. Certificates and keys: one lab certificate per distinct user cert (and its key).
  const myhostname = mainParams.get('myhostname')?.value;
  // Without myhostname Postfix would use the container's name; the lab base names it mx.lab.test, the name the lab's nodes resolve.
  if (!myhostname) overlay.push({ parameter: 'myhostname', where: 'lab base', from: "(unset: the host's name)", to: 'mx.lab.test', why: 'the lab hostname of the Postfix node (your myhostname, when set, is kept)' });
  const sans = [...new Set([...(myhostname && /^[A-Za-z0-9.-]+$/.test(myhostname) ? [myhostname.toLowerCase()] : []), 'mx.lab.test'])];
  const certificates: CertificateSpec[] = [];
  const names = new Set<string>();
  const byUserFile = new Map<string, string>();
  const labCert = (userFile: string, ec: boolean): string => {
    const known = byUserFile.get(`${userFile}|${ec}`);
    if (known) return known;
    const name = certName(userFile, names);
    const key: KeySpec = ec ? 'ec-p256' : 'rsa-2048';
    certificates.push({ name, commonName: sans[0]!, sans, key });
    byUserFile.set(`${userFile}|${ec}`, name);
    return name;
  };
  const isPath = (v: string) => v.startsWith('/');
  for (const pair of CERT_PAIRS) {
    for (const certX of each(pair.cert)) {
      if (!isPath(certX.p.value)) continue;
      const ec = pair.ec || mentionsEc(certX.p.value);
      const name = labCert(certX.p.value, ec);
      set(certX, `${LAB_TLS}/${name}.crt`, `a lab certificate (${ec ? 'ec-p256' : 'rsa-2048'}, CN ${sans[0]}) stands in for yours, with the same key type`);
      // The key: the same scope's key parameter; Postfix's default is the certificate file itself, which the lab keeps apart.
      const keyX = each(pair.key).find((k) => (k.kind === 'main' && certX.kind === 'main') || (k.kind === 'override' && certX.kind === 'override' && k.p.entry === certX.p.entry));
      if (keyX) set(keyX, `${LAB_TLS}/${name}.key`, `the key of the lab certificate ${name}`);
      else if (certX.kind === 'main') {
        mainSet.set(pair.key, `${LAB_TLS}/${name}.key`);
        overlay.push({ parameter: pair.key, where: 'main.cf (added)', from: `(unset: the key is read from ${pair.cert})`, to: `${LAB_TLS}/${name}.key`, why: 'the lab keeps the key in its own file' });
      } else setOverride({ ...certX.p, name: pair.key, value: '(unset)', written: '(unset)' }, `${LAB_TLS}/${name}.key`, 'the lab keeps the key in its own file');
    }
    for (const keyX of each(pair.key)) {
      // A key without a certificate in the same place (the certificate is set elsewhere) still needs a lab path.
      if (!isPath(keyX.p.value) || overlay.some((o) => o.parameter === pair.key && o.where === keyX.p.where)) continue;
      const name = labCert(keyX.p.value.replace(/key/i, 'cert'), pair.ec || mentionsEc(keyX.p.value));
      set(keyX, `${LAB_TLS}/${name}.key`, `the key of the lab certificate ${name}`);
    }
  }
  // chain_files: each file holds a key and its chain; the lab keeps keys apart, so each becomes a cert/key pair.
  for (const chainName of CHAIN_FILES) {
    for (const x of each(chainName)) {
      const files = x.p.value.split(/[\s,]+/).filter(isPath);
      if (!files.length) continue;
      set(x, null, `replaced by ${chainName.startsWith('smtpd') ? 'smtpd' : 'smtp'}_tls_cert_file/key_file pairs below (the lab's files hold the key apart from the chain)`);
      const prefix = chainName.startsWith('smtpd') ? 'smtpd' : 'smtp';
      files.slice(0, 2).forEach((f, i) => {
        // Several files: one per key type (RSA first unless the names say otherwise).
        const ec = mentionsEc(f) || (files.length > 1 && i === 1 && !files.some((g, k) => k !== i && mentionsEc(g)) ? true : false);
        const name = labCert(f, ec);
        const [cert, key] = ec ? [`${prefix}_tls_eccert_file`, `${prefix}_tls_eckey_file`] : [`${prefix}_tls_cert_file`, `${prefix}_tls_key_file`];
        for (const [param, value] of [[cert, `${LAB_TLS}/${name}.crt`], [key, `${LAB_TLS}/${name}.key`]] as const) {
          if (x.kind === 'main') {
            mainSet.set(param, value);
            overlay.push({ parameter: param, where: `${x.p.where} (from ${chainName})`, from: f, to: value, why: `a lab certificate (${ec ? 'ec-p256' : 'rsa-2048'}) for ${f}` });
          } else setOverride({ ...x.p, name: param, value: f, written: f }, value, `a lab certificate (${ec ? 'ec-p256' : 'rsa-2048'}) for ${f}`);
        }
      });
      if (files.length > 2) problems.push({ parameter: chainName, where: x.p.where, message: `${chainName} lists ${files.length} files; the lab stands in for the first two key types only (${files.slice(2).join(', ')} ignored)` });
    }
  }
  for (const n of CA_FILES) for (const x of each(n)) if (isPath(x.p.value)) set(x, LAB_CA, 'the lab CA (what signs the lab certificates)');
  for (const n of CA_PATHS) for (const x of each(n)) if (isPath(x.p.value)) set(x, '/etc/ssl/certs', "the image's system CA folder");
  for (const n of DH_FILES) for (const x of each(n)) if (isPath(x.p.value)) set(x, LAB_DH, 'the lab image has the RFC 7919 ffdhe4096 group (a size other than 4096 is not reproduced)');

  // 4. SASL: the lab runs Cyrus with a per-run sasldb.
  const saslOn = [...each('smtpd_sasl_auth_enable')].some((x) => /^(yes|true|1)$/i.test(x.p.value));
  for (const x of each('smtpd_sasl_type')) if (x.p.value !== 'cyrus') set(x, 'cyrus', 'the lab runs Cyrus SASL with its own sasldb (no dovecot in the image)');
  for (const x of each('smtpd_sasl_path')) if (x.p.value !== 'smtpd') set(x, 'smtpd', "Cyrus reads /etc/postfix/sasl/smtpd.conf (the lab's)");

  // 5. Maps: `type:/path` anywhere, taken from DIR by base name.
  const maps = new Map<string, MapSpec>();
  const allParams: Place[] = [...[...mainParams.values()].map((p) => ({ kind: 'main' as const, p })), ...overrides.map((p) => ({ kind: 'override' as const, p }))];
  for (const x of allParams) {
    if (OWN_DATABASES.test(x.p.name) || (x.kind === 'main' && mainSet.has(x.p.name))) continue;
    const refs = [...x.p.value.matchAll(MAP_REF)];
    if (!refs.length) continue;
    if (LOCAL_DELIVERY.includes(x.p.name)) {
      set(x, '', 'local delivery is not part of check (the lab delivers to its own mailbox)');
      continue;
    }
    let value = x.p.value;
    for (const [whole, type, file] of refs) {
      const base = path.posix.basename(file!);
      const text = input.files.get(base);
      if (text === undefined) {
        problems.push({ parameter: x.p.name, where: x.p.where, message: `${x.p.name} (${x.p.where}) names ${whole}, but ${path.join(dir, base)} does not exist` });
      }
      if (!maps.has(base)) maps.set(base, { name: base, file: path.join(dir, base), text: text ?? '', postmap: POSTMAP_TYPES.has(type!) ? type! : null, fileContents: false });
      value = value.replace(whole!, `${type}:${CONTAINER_PATHS.maps}/${base}`);
    }
    const missing = refs.filter(([, , f]) => !input.files.has(path.posix.basename(f!)));
    set(x, value, missing.length ? `map files from the folder, in the lab's map folder; ${missing.map(([w]) => w).join(', ')} missing there: an empty stand-in keeps the rest running` : "map files from the folder, built with postmap in the lab's map folder");
  }

  // Render: main.cf with the replacements in place (a removed line becomes a comment, so line numbers stay).
  const replaced = new Set<string>();
  const lines: string[] = [];
  const keep = (i: MainCfItem) => {
    if (i.kind !== 'param' || !mainSet.has(i.name)) return null;
    replaced.add(i.name);
    const to = mainSet.get(i.name)!;
    // main.cf has no trailing comments: the note goes on its own line.
    return to === null ? `# smtp-tls-lab overlay removed: ${i.name} = ${i.value}` : `# smtp-tls-lab overlay, was: ${i.name} = ${i.value}\n${i.name} = ${to}`;
  };
  const textLines = input.mainCf.text.split(/\r?\n/);
  const starts = new Map(items.map((i) => [i.line, i] as const));
  for (let n = 1; n <= textLines.length; n++) {
    const item = starts.get(n);
    const repl = item ? keep(item) : null;
    if (repl === null) {
      lines.push(textLines[n - 1]!);
      continue;
    }
    lines.push(repl);
    // Continuation lines of a replaced entry are commented out.
    while (n < textLines.length && /^\s+\S/.test(textLines[n]!) && !/^\s*#/.test(textLines[n]!)) lines.push(`#${textLines[n++]!}`);
  }
  const added = [...mainSet].filter(([name, v]) => !replaced.has(name) && v !== null);
  if (added.length) lines.push('', '# smtp-tls-lab overlay: added', ...added.map(([name, v]) => `${name} = ${v}`));

  let masterText = input.masterCf?.text ?? null;
  if (input.masterCf) {
    const out: string[] = [];
    const raw = input.masterCf.text.split(/\r?\n/);
    const byLine = new Map(master.map((e) => [e.line, e] as const));
    for (let n = 1; n <= raw.length; n++) {
      const e = byLine.get(n);
      if (!e) {
        out.push(raw[n - 1]!);
        continue;
      }
      const span = e.text.split('\n').length;
      let text = e.text;
      // A listening address on the entry: the lab's container has its own.
      const host = /^(\S+):(\S+)(\s)/.exec(text);
      if (e.type === 'inet' && host) {
        overlay.push({ parameter: '(service address)', where: `master.cf, line ${e.line}`, from: e.service, to: host[2]!, why: 'the lab container listens on its lab address' });
        text = text.replace(/^(\S+):(\S+)(\s)/, '$2$3');
      }
      // chroot: the lab's certificates, sasldb and log socket live outside /var/spool/postfix.
      if (e.fields.length >= 8 && e.fields[4] === 'y') {
        overlay.push({ parameter: '(chroot)', where: `master.cf, line ${e.line} (${e.service})`, from: 'y', to: 'n', why: "the lab's certificates, sasldb and log are outside a chroot" });
        const first = text.split('\n')[0]!;
        const f = first.trim().split(/\s+/);
        f[4] = 'n';
        text = [f.join('  '), ...text.split('\n').slice(1)].join('\n');
      }
      const changes = masterSet.get(`${e.service}/${e.type}`);
      for (const [name, to] of changes ?? []) {
        const re = new RegExp(`(-o\\s+\\{?\\s*)${name}\\s*=\\s*[^\\s}]*(\\}?)`);
        if (re.test(text)) text = to === null ? text.replace(new RegExp(`\\s*-o\\s+\\{?\\s*${name}\\s*=\\s*[^\\s}]*\\}?`), '') : text.replace(re, `$1${name}=${to}$2`);
        else if (to !== null) text = `${text}\n  -o ${name}=${to}`;
      }
      out.push(text);
      n += span - 1;
      // Skip the entry's physical lines (comments inside an entry are rare; they are dropped with it).
      while (n < raw.length && /^\s+/.test(raw[n]!) && raw[n]!.trim() !== '' && !byLine.has(n + 1)) n++;
    }
    masterText = out.join('\n');
  }
  const saslUsers = saslOn ? [CHECK_SASL_USER] : [];
  if (saslOn) overlay.push({ parameter: '(sasldb)', where: 'lab', from: '(your SASL users)', to: CHECK_SASL_USER, why: 'one lab user with a password made per run, so that AUTH is offered as it would be' });
  // In file order: main.cf by line, then master.cf by line, then what the lab adds.
  const rank = (e: OverlayEntry) => [e.where.startsWith('main.cf') ? 0 : e.where.startsWith('master.cf') ? 1 : 2, Number(/line (\d+)/.exec(e.where)?.[1] ?? 1e9)] as const;
  overlay.sort((a, b) => rank(a)[0] - rank(b)[0] || rank(a)[1] - rank(b)[1]);
  return {
    dir,
    mainCf: { file: input.mainCf.file, text: lines.join('\n') },
    masterCf: input.masterCf && masterText !== null ? { file: input.masterCf.file, text: masterText } : null,
    maps: [...maps.values()],
    certificates: certificates.length ? certificates : [{ name: 'server', commonName: sans[0]!, sans, key: 'rsa-2048' }],
    saslUsers,
    overlay,
    problems,
  };
}

/** The overlay as lines for the terminal and the report. */
export function overlayLines(o: OverlaidConfig): string[] {
  if (!o.overlay.length) return ['overlay: none (the config runs as given, inside the lab guard)'];
  return [`overlay: ${o.overlay.length} change(s) the lab made to run your config`, ...o.overlay.map((e) => `  ${e.where}: ${e.parameter}: ${e.from} -> ${e.to}  (${e.why})`)];
}
