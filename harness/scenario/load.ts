import { STACK_NAMES, isStackName, type StackName } from '../core/stacks.js';
import fs from 'node:fs';
import path from 'node:path';
import { LabError, asLabError } from '../core/errors.js';
import { KEY_SPECS } from '../certs/lab-pki.js';
import { readCheck } from '../checks/kinds/specs.js';
import { effectiveConfig } from '../postfix/effective-config.js';
import { listeningPorts, parseMasterCf, serviceTlsMode } from '../postfix/master-cf.js';
import { Reader, ScenarioFileError } from './validate.js';
import { DEFAULT_NODES, type BreakItSpec, type CertificateSpec, type LabNodeSpec, type MapSpec, type NodePostfixFiles, type Scenario } from './types.js';
import { DEFAULT_PEER_SPEC, PEER_TLS_VERSIONS, type SmtpPeerSpec } from '../peer/peer-spec.js';
import { ZONE_MODES, type DnsSpec } from '../dns/dns-spec.js';
import { ZONE_PLACEHOLDER } from '../dns/zone.js';
import { checkReferences } from './references.js';
import { readStsPolicySpec } from '../sts/policy-spec.js';
import { readEximSpec, readOpensmtpdSpec } from '../interop/mta-spec-read.js';
import { applyBreakIt } from './break-it.js';

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const MAX_FILE_BYTES = 256 * 1024;
const PARAM = /^[a-z][A-Za-z0-9_]*$/;

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
  const certs: CertificateSpec[] = r.field('certificates').entries().map(([name, c]) => {
    if (!FILE_NAME.test(name) || name.includes('.')) c.fail("a certificate name made of letters, digits, '-' and '_'");
    c.object(['commonName', 'sans', 'key', 'validDays', 'notBeforeDaysAgo', 'usage', 'issuer', 'keyFrom']);
    return {
      name,
      commonName: c.field('commonName').string(),
      ...(c.has('sans') ? { sans: c.field('sans').list().map((x) => x.string()) } : {}),
      key: c.has('key') ? c.field('key').oneOf(KEY_SPECS) : 'ec-p256',
      ...(c.has('validDays') ? { validDays: c.field('validDays').number(1, 3650) } : {}),
      ...(c.has('notBeforeDaysAgo') ? { notBeforeDaysAgo: c.field('notBeforeDaysAgo').number(0, 36500) } : {}),
      ...(c.has('usage') ? { usage: c.field('usage').oneOf(['server', 'client'] as const) } : {}),
      ...(c.has('issuer') ? { issuer: c.field('issuer').oneOf(['lab-ca', 'lab-intermediate', 'self'] as const) } : {}),
      ...(c.has('keyFrom') ? { keyFrom: c.field('keyFrom').string() } : {}),
    };
  });
  certs.forEach((c, i) => {
    if (!c.keyFrom) return;
    const from = certs.find((o) => o.name === c.keyFrom);
    const field = r.field('certificates').entries()[i]![1].field('keyFrom');
    if (!from || from.keyFrom) field.fail(`the name of another certificate of this scenario that has its own key (${certs.filter((o) => !o.keyFrom && o.name !== c.name).map((o) => o.name).join(', ')})`);
    if (from!.key !== c.key) field.fail(`a certificate with the same key type (${c.name} is ${c.key}, ${from!.name} is ${from!.key})`, `set "key": "${from!.key}" on ${c.name}`);
  });
  return certs;
}

function readPostfixFiles(dir: string, file: string, pf: Reader): NodePostfixFiles {
  pf.object(['mainCf', 'masterCf', 'maps']);
  return {
    mainCf: readScenarioFile(dir, file, pf.field('mainCf')),
    masterCf: pf.has('masterCf') ? readScenarioFile(dir, file, pf.field('masterCf')) : null,
    maps: pf.has('maps') ? readMaps(dir, file, pf.field('maps')) : [],
  };
}

function readMaps(dir: string, file: string, r: Reader): MapSpec[] {
  return r.list().map((m) => {
    m.object(['file', 'postmap', 'fileContents']);
    const f = readScenarioFile(dir, file, m.field('file'));
    return {
      name: path.basename(f.file),
      file: f.file,
      text: f.text,
      postmap: m.has('postmap') ? m.field('postmap').oneOf(['hash', 'btree', 'cdb', 'lmdb', 'texthash'] as const) : null,
      fileContents: m.has('fileContents') ? m.field('fileContents').boolean() : false,
    };
  });
}

function readPeer(r: Reader, certNames: readonly string[]): SmtpPeerSpec {
  r.object(['port', 'protocol', 'starttls', 'certificate', 'sendChain', 'tls', 'greetingName']);
  const d = DEFAULT_PEER_SPEC;
  const starttls = r.has('starttls') ? r.field('starttls').boolean() : d.starttls;
  const certificate = r.has('certificate') ? r.field('certificate').oneOf(certNames.length ? certNames : ['(no certificate in this scenario)']) : null;
  if (starttls && !certificate) (r.has('starttls') ? r.field('starttls') : r).fail('a "certificate" for a peer that offers STARTTLS', `name one of the scenario's certificates (${certNames.join(', ') || 'add one under "certificates"'}), or set "starttls": false`);
  const t = r.has('tls') ? r.field('tls').object(['minVersion', 'maxVersion', 'ciphers', 'ciphersuites', 'groups', 'requestClientCertificate']) : null;
  const tls = {
    minVersion: t?.has('minVersion') ? t.field('minVersion').oneOf(PEER_TLS_VERSIONS) : d.tls.minVersion,
    maxVersion: t?.has('maxVersion') ? t.field('maxVersion').oneOf(PEER_TLS_VERSIONS) : d.tls.maxVersion,
    ciphers: t?.has('ciphers') ? t.field('ciphers').string() : null,
    ciphersuites: t?.has('ciphersuites') ? t.field('ciphersuites').string() : null,
    groups: t?.has('groups') ? t.field('groups').string(/^[A-Za-z0-9_:-]+$/, "OpenSSL group names separated by ':' (X25519:P-256)") : null,
    requestClientCertificate: t?.has('requestClientCertificate') ? t.field('requestClientCertificate').boolean() : false,
  };
  if (PEER_TLS_VERSIONS.indexOf(tls.minVersion) > PEER_TLS_VERSIONS.indexOf(tls.maxVersion)) t!.field('minVersion').fail(`a version no newer than maxVersion (${tls.maxVersion})`);
  return {
    port: r.has('port') ? r.field('port').number(1, 65535) : d.port,
    protocol: r.has('protocol') ? r.field('protocol').oneOf(['smtp', 'lmtp'] as const) : d.protocol,
    starttls,
    certificate,
    sendChain: r.has('sendChain') ? r.field('sendChain').boolean() : d.sendChain,
    tls,
    greetingName: r.has('greetingName') ? r.field('greetingName').string(/^[a-z0-9.-]+$/, 'a host name') : null,
  };
}

function readNodes(r: Reader, dir: string, file: string, certNames: readonly string[], saslUsers: readonly string[]): LabNodeSpec[] {
  if (!r.has('nodes')) return [...DEFAULT_NODES];
  const list = r.field('nodes').list();
  const nodes = list.map((n) => {
    n.object(['name', 'kind', 'hostnames', 'hostNumber', 'dependsOn', 'lazy', 'postfix', 'peer', 'exim', 'opensmtpd', 'sts']);
    const kind = n.field('kind').oneOf(['postfix', 'client', 'smtp-peer', 'dns', 'exim', 'opensmtpd', 'sts-policy', 'sts-resolver'] as const);
    if (n.has('sts') !== (kind === 'sts-policy')) (n.has('sts') ? n.field('sts') : n).fail(kind === 'sts-policy' ? 'an "sts" block (the policy host\'s sites) on a node of kind sts-policy' : 'no "sts" block on a node that is not kind sts-policy');
    for (const k of ['exim', 'opensmtpd'] as const) if (n.has(k) && kind !== k) n.field(k).fail(`no "${k}" block on a node that is not kind ${k}`);
    if (n.has('postfix') && kind !== 'postfix') n.field('postfix').fail('no "postfix" block on a node that is not kind postfix');
    if (n.has('peer') && kind !== 'smtp-peer') n.field('peer').fail('no "peer" block on a node that is not kind smtp-peer');
    // A peer runs on the host, at the network's gateway: it has no host number of its own.
    if (kind === 'smtp-peer' && n.has('hostNumber')) n.field('hostNumber').fail('no hostNumber on an smtp-peer node (it listens on the gateway address, .1)', 'remove "hostNumber"');
    return {
      name: n.field('name').string(ID, 'a node name (lowercase letters, digits, -)'),
      kind,
      hostnames: n.has('hostnames') ? n.field('hostnames').list().map((h) => h.string(/^[a-z0-9.-]+$/, 'a lab host name')) : [],
      hostNumber: kind === 'smtp-peer' ? 1 : n.field('hostNumber').number(10, 250),
      dependsOn: n.has('dependsOn') ? n.field('dependsOn').list().map((d) => d.string()) : [],
      lazy: n.has('lazy') ? n.field('lazy').boolean() : false,
      postfix: n.has('postfix') ? readPostfixFiles(dir, file, n.field('postfix')) : null,
      peer: kind === 'smtp-peer' ? readPeer(n.field('peer'), certNames) : null,
      exim: kind === 'exim' ? readEximSpec(n.has('exim') ? n.field('exim') : null, certNames, saslUsers) : null,
      opensmtpd: kind === 'opensmtpd' ? readOpensmtpdSpec(n.has('opensmtpd') ? n.field('opensmtpd') : null, certNames, saslUsers) : null,
      sts: kind === 'sts-policy' ? readStsPolicySpec(n.field('sts'), certNames) : null,
    } satisfies LabNodeSpec;
  });
  const names = nodes.map((n) => n.name);
  nodes.forEach((n, i) => {
    if (names.indexOf(n.name) !== i) list[i]!.field('name').fail('a node name unique in the scenario');
    if (n.kind !== 'smtp-peer' && nodes.findIndex((o) => o.kind !== 'smtp-peer' && o.hostNumber === n.hostNumber) !== i) list[i]!.field('hostNumber').fail('a host number no other node has');
    if (n.kind === 'smtp-peer' && nodes.findIndex((o) => o.kind === 'smtp-peer' && o.peer!.port === n.peer!.port) !== i) list[i]!.field('peer').fail(`a port no other peer listens on (${n.peer!.port} is taken: every peer is on the gateway address)`);
    n.dependsOn.forEach((d, k) => {
      if (!names.includes(d) || d === n.name) list[i]!.field('dependsOn').list()[k]!.fail(`the name of another node (${names.filter((x) => x !== n.name).join(', ')})`);
    });
  });
  // Dependency order must exist: repeatedly take nodes whose dependencies are all taken.
  const done = new Set<string>();
  while (done.size < nodes.length) {
    const next = nodes.filter((n) => !done.has(n.name) && n.dependsOn.every((d) => done.has(d)));
    if (next.length === 0) r.field('nodes').fail('nodes whose dependsOn has no cycle', `the cycle is among ${nodes.filter((n) => !done.has(n.name)).map((n) => n.name).join(', ')}`);
    next.forEach((n) => done.add(n.name));
  }
  const subjects = nodes.filter((n) => n.kind === 'postfix' && !n.postfix);
  if (subjects.length !== 1) {
    r.field('nodes').fail(
      "exactly one postfix node without its own \"postfix\" block: the Postfix under test, which runs the scenario's top-level postfix block",
      subjects.length === 0 ? 'add a postfix node for the Postfix under test' : `nodes ${subjects.map((n) => n.name).join(', ')} all lack a "postfix" block; give every other Postfix its own`,
    );
  }
  return nodes;
}

const ZONE_NAME = /^(?=.{1,200}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** The lab DNS zones: the first is the anchor (signed), the others below it; placeholders name nodes and certificates of the scenario. */
function readDns(r: Reader, nodes: readonly LabNodeSpec[], certNames: readonly string[]): DnsSpec | null {
  const dnsNodes = nodes.filter((n) => n.kind === 'dns');
  if (!r.has('dns')) {
    if (dnsNodes.length) r.field('nodes').fail('a "dns" block with the zones the dns node serves', 'add "dns": { "zones": [ … ] }, or remove the dns node');
    return null;
  }
  const d = r.field('dns').object(['zones']);
  if (dnsNodes.length !== 1) d.fail('exactly one node of kind dns to serve these zones', 'add { "name": "dns", "kind": "dns", "hostnames": ["ns.lab.test"], "hostNumber": 53 } to "nodes"');
  const list = d.field('zones').list();
  const zones = list.map((z, i) => {
    z.object(['name', 'dnssec', 'corrupt', 'records']);
    const name = z.field('name').string(ZONE_NAME, 'a lowercase DNS zone name with at least two labels (lab.test, good.lab.test)');
    const dnssec = z.has('dnssec') ? z.field('dnssec').oneOf(ZONE_MODES) : 'signed';
    if (i === 0 && dnssec !== 'signed') z.field('dnssec').fail("'signed' for the first zone (the anchor: its key is the resolver's trust anchor)");
    if (dnssec === 'corrupt' && !z.has('corrupt')) z.fail('"corrupt": the RR type whose signature to alter (MX, TLSA, A …) for a zone with dnssec "corrupt"');
    if (dnssec !== 'corrupt' && z.has('corrupt')) z.field('corrupt').fail('no "corrupt" unless dnssec is "corrupt"');
    const records = z.has('records') ? z.field('records').list().map((x) => x.string(/^[^\n]{1,2000}$/, 'one zone-file record on one line')) : [];
    z.has('records') &&
      z.field('records').list().forEach((x, k) => {
        for (const [, kind, arg] of records[k]!.matchAll(ZONE_PLACEHOLDER)) {
          if (kind === 'address' && !nodes.some((n) => n.name === arg)) x.fail(`{{address:NODE}} naming a node of the scenario (${nodes.map((n) => n.name).join(', ')}); it names '${arg}'`);
          if (kind === 'tlsa') {
            const m = /^([0-3]) ([01]) ([0-2]):([A-Za-z0-9_-]+)(@issuer)?$/.exec(arg!);
            if (!m) x.fail(`{{tlsa:USAGE SELECTOR MTYPE:CERT}} (e.g. {{tlsa:3 1 1:peer}}, or {{tlsa:2 1 1:peer@issuer}} for its CA); found {{tlsa:${arg}}}`);
            if (!certNames.includes(m![4]!)) x.fail(`a certificate of this scenario in {{tlsa:…}} (${certNames.join(', ')}); it names '${m![4]}'`);
          }
        }
      });
    return { name, dnssec, corruptType: z.has('corrupt') ? z.field('corrupt').string(/^[A-Z0-9]+$/, 'an RR type (MX, TLSA, A …)') : null, records };
  });
  if (zones.length === 0) d.field('zones').fail('at least one zone (the anchor zone, e.g. lab.test)');
  const anchor = zones[0]!.name;
  zones.forEach((z, i) => {
    if (i > 0 && !z.name.endsWith(`.${anchor}`)) list[i]!.field('name').fail(`a zone below the anchor zone ${anchor}`);
    if (zones.findIndex((o) => o.name === z.name) !== i) list[i]!.field('name').fail('a zone name no other zone has');
  });
  return { zones };
}

function readParamSet(r: Reader): Record<string, string> {
  return Object.fromEntries(r.entries().map(([k, v]) => {
    if (!PARAM.test(k)) v.fail('a Postfix parameter name as key');
    return [k, typeof v.raw() === 'string' ? (v.raw() as string) : v.fail('a parameter value (a string; "" for empty)')];
  }));
}

function readBreakIt(r: Reader, checkIds: readonly string[]): BreakItSpec[] {
  if (!r.has('breakIt')) return [];
  return r.field('breakIt').list().map((b) => {
    b.object(['title', 'mainCf', 'masterCf', 'replace', 'fails']);
    const mainCf = b.has('mainCf') ? b.field('mainCf').object(['set', 'remove']) : null;
    const masterCf = b.has('masterCf') ? b.field('masterCf').object(['service', 'set', 'remove']) : null;
    const fails = b.field('fails').list().map((f) => {
      const id = f.string();
      if (!checkIds.includes(id)) f.fail(`the id of a check of this scenario (${checkIds.join(', ')})`);
      return id;
    });
    if (fails.length === 0) b.field('fails').fail('at least one check the change makes fail', 'a change that breaks nothing shows nothing; pick one that a check catches');
    const spec: BreakItSpec = {
      title: b.field('title').string(),
      mainCf: mainCf ? { set: mainCf.has('set') ? readParamSet(mainCf.field('set')) : {}, remove: mainCf.has('remove') ? mainCf.field('remove').list().map((x) => x.string(PARAM, 'a parameter name')) : [] } : null,
      masterCf: masterCf
        ? { service: masterCf.field('service').string(), set: masterCf.has('set') ? readParamSet(masterCf.field('set')) : {}, remove: masterCf.has('remove') ? masterCf.field('remove').list().map((x) => x.string(PARAM, 'a parameter name')) : [] }
        : null,
      replace: b.has('replace')
        ? b.field('replace').list().map((x) => {
            x.object(['file', 'find', 'with']);
            return { file: x.field('file').string(), find: x.field('find').string(), with: typeof x.field('with').raw() === 'string' ? (x.field('with').raw() as string) : x.field('with').fail('a string') };
          })
        : [],
      fails,
    };
    if (!spec.mainCf && !spec.masterCf && spec.replace.length === 0) b.fail('a change: mainCf, masterCf or replace');
    return spec;
  });
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
  const r = new Reader(file, json).object(['id', 'title', 'summary', 'seeds', 'stacks', 'timeoutSeconds', 'postfix', 'certificates', 'sasl', 'nodes', 'dns', 'checks', 'breakIt']);
  const id = r.field('id').string(ID, 'a scenario id (lowercase letters, digits, -)');
  if (id !== path.basename(dir)) r.field('id').fail(`the folder name '${path.basename(dir)}'`, 'rename the folder or the id so they match');
  const pf = r.field('postfix').object(['mainCf', 'masterCf', 'maps', 'expectedWarnings']);
  const mainCf = readScenarioFile(dir, file, pf.field('mainCf'));
  const masterCf = pf.has('masterCf') ? readScenarioFile(dir, file, pf.field('masterCf')) : null;
  const maps: MapSpec[] = pf.has('maps') ? readMaps(dir, file, pf.field('maps')) : [];
  const certificates = readCertificates(r);
  const names = certificates.map((c) => c.name);
  pf.has('maps') &&
    pf.field('maps').list().forEach((m, i) => {
      for (const [, ref] of maps[i]!.text.matchAll(/\{\{(?:sha256|spki-sha256):([^}]*)\}\}/g)) {
        if (!names.includes(ref!)) m.field('file').fail(`a map whose {{sha256:NAME}} / {{spki-sha256:NAME}} placeholders name certificates of this scenario (${names.join(', ')}); it names '${ref}'`, 'fix the placeholder or add the certificate');
      }
    });
  const saslUsers = r.has('sasl') ? r.field('sasl').object(['users']).field('users').list().map((u) => u.string(/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+$/, 'a SASL login user@realm')) : [];
  const expectedWarnings = pf.has('expectedWarnings')
    ? pf.field('expectedWarnings').list().map((w) => {
        const src = w.string();
        try {
          new RegExp(src);
        } catch {
          w.fail('a valid regular expression over the warning text');
        }
        return src;
      })
    : [];
  // A service's default way to TLS (wrapper mode or STARTTLS) comes from the master.cf Postfix will run.
  const effective = effectiveConfig({ mainCf, masterCf }, `scenario ${id}`);
  const master = parseMasterCf(effective.masterCf, 'master.cf');
  const nodes = readNodes(r, dir, file, names, saslUsers);
  const dns = readDns(r, nodes, names);
  const receivingNodes = nodes.filter((n) => n.kind === 'smtp-peer' || n.kind === 'exim' || n.kind === 'opensmtpd' || (n.kind === 'postfix' && n.postfix)).map((n) => n.name);
  const sendingNodes = Object.fromEntries([
    ...nodes.filter((n) => n.exim?.sender).map((n) => [n.name, Object.keys(n.exim!.sender!.transports)] as const),
    ...nodes.filter((n) => n.opensmtpd?.sender).map((n) => [n.name, Object.keys(n.opensmtpd!.sender!.relays)] as const),
  ]);
  const ctx = { certNames: names, saslUsers, modeOf: (service: string) => serviceTlsMode(master, service, effective.items), services: listeningPorts(master), receivingNodes, sendingNodes, zones: dns?.zones.map((z) => z.name) ?? [] };
  const checks = r.field('checks').list().map((c) => readCheck(c, ctx));
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
    stacks: r.has('stacks') ? readStacks(r.field('stacks')) : [],
    timeoutSeconds: r.has('timeoutSeconds') ? r.field('timeoutSeconds').number(5, 3600) : DEFAULT_SCENARIO_TIMEOUT_S,
    mainCf,
    masterCf,
    maps,
    certificates,
    saslUsers,
    nodes,
    dns,
    expectedWarnings,
    checks,
    breakIt: [],
  };
  checkReferences(scenario);
  const breakIt = readBreakIt(r, checks.map((c) => c.id));
  // Each change must leave a scenario the lab would accept: no guarded parameter, no file it lacks.
  breakIt.forEach((b) => checkReferences(applyBreakIt(scenario, b)));
  return { ...scenario, breakIt };
}

/** `"stacks": ["trixie", …]`: known stack names, each once, at least one. */
function readStacks(f: ReturnType<Reader['field']>): StackName[] {
  const list = f.list();
  if (list.length === 0) f.fail(`a non-empty list of stacks (${STACK_NAMES.join(', ')})`, 'remove "stacks" to run on the default stack');
  const names = list.map((s) => s.string(/^.*$/, 'a stack name'));
  names.forEach((n, i) => {
    if (!isStackName(n)) list[i]!.fail(`a known stack (${STACK_NAMES.join(', ')}); it names '${n}'`);
    if (names.indexOf(n) !== i) list[i]!.fail('a stack named once');
  });
  return names as StackName[];
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
