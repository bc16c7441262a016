import fs from 'node:fs';
import path from 'node:path';
import { LabError, asLabError } from '../core/errors.js';
import { KEY_SPECS } from '../certs/lab-pki.js';
import { parseMatcher, type Matcher } from '../checks/matchers.js';
import type { ClientName } from '../tls/observation.js';
import { UNSUPPORTED } from '../clients/capabilities.js';
import { byIanaName, byOpenSslName } from '../enum/cipher-suites.js';
import { Reader, ScenarioFileError } from './validate.js';
import type { CertificateSpec, CheckSpec, ClientSpec, ClientTlsSpec, MapSpec, Scenario } from './types.js';
import { checkReferences } from './references.js';

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const MAX_FILE_BYTES = 256 * 1024;
const LOG_EVENTS = ['tls-established', 'tls-handshake-error', 'tls-library-problem', 'tls-state', 'tls-alert', 'tls-session', 'tls-setup', 'tls-dump', 'tls-data', 'tls-peer-certificate', 'connect', 'disconnect', 'lost-connection', 'reject', 'delivery', 'queue-client', 'warning', 'fatal'] as const;
const VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

/** Read a file the scenario names. Only plain names inside the scenario folder: no paths, no "..". */
function readScenarioFile(dir: string, scenarioFile: string, r: Reader): { file: string; text: string } {
  const name = r.string();
  if (!FILE_NAME.test(name) || name.includes('..')) {
    r.fail('a plain file name inside the scenario folder', 'scenario files may only name files next to scenario.json; paths and ".." are refused');
  }
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) r.fail(`an existing file (${path.relative(process.cwd(), file)} does not exist)`, `create ${name} next to ${path.basename(scenarioFile)}`);
  const real = fs.realpathSync(file);
  if (path.dirname(real) !== fs.realpathSync(dir)) r.fail('a file inside the scenario folder', 'do not use symbolic links that point outside the scenario folder');
  const buf = fs.readFileSync(file);
  if (buf.length > MAX_FILE_BYTES) r.fail(`a file of at most ${MAX_FILE_BYTES} bytes (${name} has ${buf.length})`, 'a Postfix file this large is not what you meant to give');
  if (buf.includes(0)) r.fail(`a text file (${name} contains NUL bytes: it is binary)`, 'point the scenario at the text configuration file');
  return { file, text: buf.toString('utf8') };
}

function readCertificates(r: Reader): CertificateSpec[] {
  if (!r.has('certificates')) return [];
  return r.field('certificates').entries().map(([name, c]) => {
    if (!FILE_NAME.test(name) || name.includes('.')) c.fail("a certificate name made of letters, digits, '-' and '_'");
    c.object(['commonName', 'sans', 'key', 'validDays', 'notBeforeDaysAgo', 'usage', 'issuer']);
    return {
      name,
      commonName: c.field('commonName').string(),
      ...(c.has('sans') ? { sans: c.field('sans').list().map((x) => x.string()) } : {}),
      key: c.has('key') ? c.field('key').oneOf(KEY_SPECS) : 'ec-p256',
      ...(c.has('validDays') ? { validDays: c.field('validDays').number(1, 3650) } : {}),
      ...(c.has('notBeforeDaysAgo') ? { notBeforeDaysAgo: c.field('notBeforeDaysAgo').number(0, 36500) } : {}),
      ...(c.has('usage') ? { usage: c.field('usage').oneOf(['server', 'client'] as const) } : {}),
      ...(c.has('issuer') ? { issuer: c.field('issuer').oneOf(['lab-ca', 'lab-intermediate', 'self'] as const) } : {}),
    };
  });
}

function readTls(r: Reader, certNames: readonly string[]): ClientTlsSpec {
  r.object(['minVersion', 'maxVersion', 'ciphers', 'ciphersuites', 'groups', 'securityLevel', 'servername', 'trust', 'verifyName', 'clientCertificate']);
  const out: Record<string, unknown> = {};
  if (r.has('minVersion')) out.minVersion = r.field('minVersion').oneOf(VERSIONS);
  if (r.has('maxVersion')) out.maxVersion = r.field('maxVersion').oneOf(VERSIONS);
  for (const k of ['ciphers', 'ciphersuites', 'groups', 'servername', 'verifyName'] as const) if (r.has(k)) out[k] = r.field(k).string(/^[A-Za-z0-9_.:@!+\-=]+$/, 'an OpenSSL-style list');
  if (r.has('securityLevel')) out.securityLevel = r.field('securityLevel').number(0, 3);
  if (r.has('trust')) out.trust = r.field('trust').oneOf(['lab', 'system'] as const);
  if (r.has('clientCertificate')) {
    const f = r.field('clientCertificate');
    const name = f.string();
    if (!certNames.includes(name)) f.fail(`the name of a certificate in this scenario (${certNames.join(', ') || 'none defined'})`, 'add it under "certificates"');
    out.clientCertificate = name;
  }
  return out as ClientTlsSpec;
}

function readClient(r: Reader, certNames: readonly string[], saslUsers: readonly string[]): ClientSpec {
  r.object(['mode', 'ehloName', 'tls', 'forceStarttls', 'plaintextProbe', 'injectAfterStarttls', 'renegotiate', 'resume', 'stopAfter', 'message', 'auth', 'timeouts']);
  const out: Record<string, unknown> = {};
  if (r.has('mode')) out.mode = r.field('mode').oneOf(['starttls', 'implicit', 'plain'] as const);
  if (r.has('ehloName')) out.ehloName = r.field('ehloName').string(/^[A-Za-z0-9.-]+$/, 'a host name');
  if (r.has('tls')) out.tls = readTls(r.field('tls'), certNames);
  if (r.has('forceStarttls')) out.forceStarttls = r.field('forceStarttls').boolean();
  if (r.has('plaintextProbe')) out.plaintextProbe = r.field('plaintextProbe').string(/^[ -~]+$/, 'one printable SMTP command line');
  if (r.has('injectAfterStarttls')) out.injectAfterStarttls = r.field('injectAfterStarttls').string(/^[ -~]+$/, 'one printable SMTP command line');
  if (r.has('renegotiate')) out.renegotiate = r.field('renegotiate').boolean();
  if (r.has('resume')) out.resume = r.field('resume').boolean();
  if (r.has('stopAfter')) out.stopAfter = r.field('stopAfter').oneOf(['banner', 'ehlo', 'handshake'] as const);
  if (r.has('message')) {
    const m = r.field('message').object(['from', 'to', 'subject', 'body']);
    out.message = {
      from: m.field('from').string(/^[^<>\s]+@[^<>\s]+$/, 'an address'),
      to: m.field('to').list().map((x) => x.string(/^[^<>\s]+@[^<>\s]+$/, 'an address')),
      subject: m.optString('subject') ?? 'smtp-tls-lab test message',
      body: m.optString('body') ?? 'This message was sent by smtp-tls-lab.',
    };
  }
  if (r.has('auth')) {
    const a = r.field('auth').object(['user', 'password', 'mechanism']);
    const user = a.field('user').string(/^[^@\s:]+@[^@\s:]+$/, 'a SASL login user@realm');
    if (!saslUsers.includes(user)) a.field('user').fail(`a user listed in the scenario's "sasl.users" (${saslUsers.join(', ') || 'none'})`, 'add the user to sasl.users');
    out.auth = { user, password: a.has('password') ? a.field('password').oneOf(['valid', 'wrong'] as const) : 'valid', mechanism: a.has('mechanism') ? a.field('mechanism').oneOf(['PLAIN', 'LOGIN'] as const) : 'PLAIN' };
  }
  if (r.has('timeouts')) {
    const t = r.field('timeouts').object(['connect', 'banner', 'reply', 'handshake']);
    out.timeouts = Object.fromEntries(['connect', 'banner', 'reply', 'handshake'].filter((k) => t.has(k)).map((k) => [k, t.field(k).number(100, 60_000)]));
  }
  return out as ClientSpec;
}

function readExpect(r: Reader): Record<string, Matcher> {
  return Object.fromEntries(r.entries().map(([k, v]) => [k, parseMatcher(v)]));
}

function readCheck(r: Reader, certNames: readonly string[], saslUsers: readonly string[]): CheckSpec {
  r.object(['id', 'title', 'why', 'configSays', 'service', 'clients', 'client', 'expect', 'serverLog', 'serverLogCounts', 'startupLog', 'startupLogAbsent', 'delivered', 'enumerate', 'offerOnly']);
  const client = r.has('client') ? readClient(r.field('client'), certNames, saslUsers) : {};
  let serverLog: CheckSpec['serverLog'] = null;
  if (r.has('serverLog')) {
    const s = r.field('serverLog').object(['event', 'expect']);
    serverLog = { event: s.field('event').oneOf(LOG_EVENTS), expect: s.has('expect') ? readExpect(s.field('expect')) : {} };
  }
  const eventList = (key: string) =>
    r.has(key)
      ? r.field(key).list().map((x) => {
          x.object(['event', 'expect']);
          return { event: x.field('event').oneOf(['postconf', 'warning', 'fatal', 'entrypoint', 'daemon-started', 'other'] as const), expect: x.has('expect') ? readExpect(x.field('expect')) : {} };
        })
      : [];
  const startupLog = eventList('startupLog');
  const startupLogAbsent = eventList('startupLogAbsent');
  let serverLogCounts: CheckSpec['serverLogCounts'] = null;
  if (r.has('serverLogCounts')) {
    const c = r.field('serverLogCounts');
    for (const [k, v] of c.entries()) {
      const [type, when] = k.split(':');
      if (!(LOG_EVENTS as readonly string[]).includes(type!) || (when !== undefined && when !== 'after-established')) {
        v.fail(`a log event type (${LOG_EVENTS.join(', ')}), optionally followed by ':after-established'`);
      }
    }
    serverLogCounts = readExpect(c);
  }
  let delivered: CheckSpec['delivered'] = null;
  if (r.has('delivered')) {
    const d = r.field('delivered').object(['status', 'receivedHeader']);
    if (!client.message) d.fail('a check whose client sends a message', 'add client.message, or remove "delivered"');
    delivered = {
      status: d.has('status') ? parseMatcher(d.field('status')) : 'sent',
      receivedHeader: d.has('receivedHeader') ? parseMatcher(d.field('receivedHeader')) : null,
    };
  }
  const suiteList = (l: Reader): number[] =>
    l.list().map((x) => {
      const name = x.string();
      const suite = byOpenSslName(name) ?? byIanaName(name);
      return suite?.code ?? x.fail('a cipher suite name OpenSSL or IANA knows (e.g. ECDHE-RSA-AES128-GCM-SHA256 or TLS_AES_128_GCM_SHA256)', 'fix the name; `openssl ciphers -V -stdname ALL` lists them');
    });
  let enumerate: CheckSpec['enumerate'] = null;
  if (r.has('enumerate')) {
    const e = r.field('enumerate').object(['protocol', 'accepted', 'refused']);
    enumerate = {
      protocol: e.field('protocol').oneOf(['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const),
      accepted: e.has('accepted') ? suiteList(e.field('accepted')) : null,
      refused: e.has('refused') ? suiteList(e.field('refused')) : [],
    };
  }
  let offerOnly: CheckSpec['offerOnly'] = null;
  if (r.has('offerOnly')) {
    const o = r.field('offerOnly').object(['version', 'ciphers']);
    offerOnly = { version: o.field('version').oneOf(['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const), ciphers: suiteList(o.field('ciphers')) };
  }
  const clients = r.has('clients') ? r.field('clients').list().map((c) => c.oneOf(['raw', 'nodemailer', 'openssl'] as const satisfies readonly ClientName[])) : enumerate || offerOnly || r.has('startupLog') || r.has('startupLogAbsent') ? ([] as ClientName[]) : (['raw'] as ClientName[]);
  const asked = [
    ...(client.plaintextProbe ? ['plaintextProbe'] : []),
    ...(client.forceStarttls ? ['forceStarttls'] : []),
    ...(client.injectAfterStarttls ? ['injectAfterStarttls'] : []),
    ...(client.renegotiate ? ['renegotiate'] : []),
    ...(client.resume ? ['resume'] : []),
    ...(client.message ? ['message'] : []),
    ...(client.auth ? ['auth'] : []),
    ...(client.stopAfter ? ['stopAfter', `stopAfter:${client.stopAfter}`] : []),
  ];
  clients.forEach((c, i) => {
    const cannot = asked.filter((a) => UNSUPPORTED[c].includes(a));
    if (cannot.length) r.field('clients').list()[i]!.fail(`a client that can do ${cannot.join(', ')} (client '${c}' cannot)`, `remove '${c}' from this check's clients, or split the check`);
  });
  return {
    id: r.field('id').string(ID, 'a check id (lowercase letters, digits, -)'),
    title: r.field('title').string(),
    why: r.optString('why') ?? '',
    configSays: r.optString('configSays') ?? '',
    service: r.optString('service') ?? 'smtp',
    clients,
    client,
    expect: r.has('expect') ? readExpect(r.field('expect')) : {},
    serverLog,
    serverLogCounts,
    startupLog,
    startupLogAbsent,
    delivered,
    enumerate,
    offerOnly,
  };
}

/** A scenario's whole budget (start and every check) unless its file says otherwise. */
export const DEFAULT_SCENARIO_TIMEOUT_S = 300;

/** Load and validate scenarios/<id>/scenario.json. Throws ScenarioFileError / LabError with file, field and remedy. */
export function loadScenario(dir: string): Scenario {
  const file = path.join(dir, 'scenario.json');
  if (!fs.existsSync(file)) throw new ScenarioFileError(file, '', 'a scenario.json file', undefined, 'every folder under scenarios/ needs a scenario.json');
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new LabError('ESCENARIO', `${file}: not valid JSON: ${(err as Error).message}`, { detail: 'remedy: fix the JSON syntax' });
  }
  const r = new Reader(file, json).object(['id', 'title', 'summary', 'seeds', 'timeoutSeconds', 'postfix', 'certificates', 'sasl', 'checks']);
  const id = r.field('id').string(ID, 'a scenario id (lowercase letters, digits, -)');
  if (id !== path.basename(dir)) r.field('id').fail(`the folder name '${path.basename(dir)}'`, 'rename the folder or the id so they match');
  const pf = r.field('postfix').object(['mainCf', 'masterCf', 'maps']);
  const mainCf = readScenarioFile(dir, file, pf.field('mainCf'));
  const masterCf = pf.has('masterCf') ? readScenarioFile(dir, file, pf.field('masterCf')) : null;
  const maps: MapSpec[] = pf.has('maps')
    ? pf.field('maps').list().map((m) => {
        m.object(['file', 'postmap', 'fileContents']);
        const f = readScenarioFile(dir, file, m.field('file'));
        return {
          name: path.basename(f.file),
          file: f.file,
          text: f.text,
          postmap: m.has('postmap') ? m.field('postmap').oneOf(['hash', 'btree', 'cdb', 'lmdb', 'texthash'] as const) : null,
          fileContents: m.has('fileContents') ? m.field('fileContents').boolean() : false,
        };
      })
    : [];
  const certificates = readCertificates(r);
  const names = certificates.map((c) => c.name);
  pf.has('maps') &&
    pf.field('maps').list().forEach((m, i) => {
      for (const [, ref] of maps[i]!.text.matchAll(/\{\{sha256:([^}]*)\}\}/g)) {
        if (!names.includes(ref!)) m.field('file').fail(`a map whose {{sha256:NAME}} placeholders name certificates of this scenario (${names.join(', ')}); it names '${ref}'`, 'fix the placeholder or add the certificate');
      }
    });
  const saslUsers = r.has('sasl') ? r.field('sasl').object(['users']).field('users').list().map((u) => u.string(/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+$/, 'a SASL login user@realm')) : [];
  const checks = r.field('checks').list().map((c) => readCheck(c, names, saslUsers));
  if (checks.length === 0) r.field('checks').fail('at least one check');
  const ids = new Set<string>();
  checks.forEach((c, i) => {
    if (ids.has(c.id)) throw new ScenarioFileError(file, `checks[${i}].id`, 'an id unique in this scenario', c.id);
    ids.add(c.id);
  });
  const scenario: Scenario = {
    id,
    title: r.field('title').string(),
    summary: r.optString('summary') ?? '',
    dir,
    file,
    seeds: r.has('seeds') ? r.field('seeds').list().map((s) => s.string(/^\d{3}$/, 'a seed number like "000"')) : [],
    timeoutSeconds: r.has('timeoutSeconds') ? r.field('timeoutSeconds').number(5, 3600) : DEFAULT_SCENARIO_TIMEOUT_S,
    mainCf,
    masterCf,
    maps,
    certificates,
    saslUsers,
    checks,
  };
  checkReferences(scenario);
  return scenario;
}

export type CatalogueEntry = { readonly id: string; readonly dir: string; readonly scenario: Scenario; readonly error: null } | { readonly id: string; readonly dir: string; readonly scenario: null; readonly error: LabError };

/** Every scenario under `root`; a broken one becomes an entry with its error, never hiding the others. */
export function loadCatalogue(root: string, only: readonly string[] = []): CatalogueEntry[] {
  if (!fs.existsSync(root)) throw new LabError('EUSAGE', `scenario folder ${root} does not exist`);
  const dirs = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.') && !d.name.startsWith('_'))
    .map((d) => d.name)
    .sort();
  const unknown = only.filter((o) => !dirs.includes(o));
  if (unknown.length) throw new LabError('EUSAGE', `no such scenario: ${unknown.join(', ')} (known: ${dirs.join(', ')})`);
  return dirs
    .filter((d) => only.length === 0 || only.includes(d))
    .map((name) => {
      const dir = path.join(root, name);
      try {
        return { id: name, dir, scenario: loadScenario(dir), error: null };
      } catch (err) {
        return { id: name, dir, scenario: null, error: asLabError(err, 'ESCENARIO') };
      }
    });
}
