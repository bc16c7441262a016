import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalogue, loadScenario } from '../../scenario/load.js';
import { SCENARIOS_DIR } from '../../engine/paths.js';
import { LabError } from '../../core/errors.js';

/** Each bad scenario is made here from a valid one with one thing broken, so the cause is plain. */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-scenarios-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const valid = () => ({
  id: 'x',
  title: 'valid',
  postfix: { mainCf: 'main.cf' },
  certificates: { server: { commonName: 'mx.lab.test' } },
  checks: [{ id: 'c', title: 'c', expect: { 'tls.protocol': 'TLSv1.3' } }],
});

function make(name: string, json: unknown, mainCf = 'smtpd_tls_cert_file = /etc/postfix/lab/tls/server.crt\n', extra: Record<string, string | Buffer> = {}): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const j = typeof json === 'object' && json && 'id' in json ? { ...json, id: name } : json;
  fs.writeFileSync(path.join(dir, 'scenario.json'), typeof j === 'string' ? j : JSON.stringify(j, null, 2));
  fs.writeFileSync(path.join(dir, 'main.cf'), mainCf);
  for (const [f, c] of Object.entries(extra)) fs.writeFileSync(path.join(dir, f), c);
  return dir;
}

function errorOf(dir: string): LabError {
  try {
    loadScenario(dir);
  } catch (err) {
    return err as LabError;
  }
  throw new Error(`expected ${dir} to be refused`);
}

describe('scenario files: bad input gets an error naming the file, the field and what was expected', () => {
  it('loads every scenario in the catalogue', () => {
    const entries = loadCatalogue(SCENARIOS_DIR);
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) expect(e.error?.message ?? null).toBeNull();
  });

  it('accepts the valid base used below', () => {
    expect(loadScenario(make('valid-base', valid())).checks).toHaveLength(1);
  });

  it('unknown key', () => {
    const e = errorOf(make('unknown-key', { ...valid(), chekcs: [] }));
    expect(e.code).toBe('ESCENARIO');
    expect(e.message).toMatch(/unknown-key[/\\]scenario\.json: chekcs: expected one of the known keys .*found unknown key 'chekcs'/);
    expect(e.detail).toMatch(/remedy/);
  });

  it('wrong type', () => {
    expect(errorOf(make('wrong-type', { ...valid(), checks: 'all' })).message).toMatch(/scenario\.json: checks: expected a list, found string "all"/);
  });

  it('wrong type deep inside a check', () => {
    const bad = valid();
    (bad.checks[0] as Record<string, unknown>).client = { tls: { maxVersion: 'TLSv9' } };
    expect(errorOf(make('wrong-deep', bad)).message).toMatch(/checks\[0\]\.client\.tls\.maxVersion: expected one of 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', found string "TLSv9"/);
  });

  it('missing required field', () => {
    const { title: _t, ...rest } = valid();
    expect(errorOf(make('missing-title', rest)).message).toMatch(/scenario\.json: title: expected a string, found nothing \(the field is missing\)/);
  });

  it('invalid JSON', () => {
    expect(errorOf(make('bad-json', '{ "id": ')).message).toMatch(/bad-json[/\\]scenario\.json: not valid JSON/);
  });

  it('path traversal in a file reference is refused', () => {
    const e = errorOf(make('traversal', { ...valid(), postfix: { mainCf: '../../etc/shadow' } }));
    expect(e.message).toMatch(/postfix\.mainCf: expected a plain file name inside the scenario folder, found string "\.\.\/\.\.\/etc\/shadow"/);
  });

  it('a symbolic link out of the scenario folder is refused', () => {
    const dir = make('symlink', { ...valid(), postfix: { mainCf: 'linked.cf' } });
    fs.symlinkSync('/etc/hostname', path.join(dir, 'linked.cf'));
    expect(errorOf(dir).message).toMatch(/postfix\.mainCf: expected a file inside the scenario folder/);
  });

  it('a binary main.cf is refused', () => {
    expect(errorOf(make('binary', valid(), 'x', { 'main.cf': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1]) })).message).toMatch(/contains NUL bytes: it is binary/);
  });

  it('a huge main.cf is refused', () => {
    expect(errorOf(make('huge', valid(), `# ${'x'.repeat(300 * 1024)}\n`)).message).toMatch(/a file of at most 262144 bytes/);
  });

  it('a certificate file the scenario does not make is named with its line', () => {
    const e = errorOf(make('missing-cert', valid(), 'smtpd_tls_cert_file = /etc/postfix/lab/tls/server.crt\nsmtpd_tls_key_file = /etc/postfix/lab/tls/srv.key\n'));
    expect(e.code).toBe('ECERT_FILE');
    expect(e.message).toMatch(/main\.cf, line 2: smtpd_tls_key_file names \/etc\/postfix\/lab\/tls\/srv\.key, which this scenario does not provide/);
    expect(e.detail).toMatch(/server\.key/);
  });

  it('a host path copied from a how-to is named', () => {
    const e = errorOf(make('host-path', valid(), 'smtpd_tls_dh1024_param_file = /etc/ssl/private/2048.dh\n'));
    expect(e.message).toMatch(/line 1: smtpd_tls_dh1024_param_file names \/etc\/ssl\/private\/2048\.dh, which is not a lab file/);
  });

  it('a setting the lab guard fixes is refused', () => {
    expect(errorOf(make('guarded', valid(), 'relayhost = [smtp.example.com]:587\n')).message).toMatch(/main\.cf, line 1: relayhost is fixed by the lab/);
  });

  it('an unknown matcher operator', () => {
    const bad = valid();
    bad.checks[0]!.expect = { 'tls.protocol': { regex: 'TLS' } } as never;
    expect(errorOf(make('bad-matcher', bad)).message).toMatch(/checks\[0\]\.expect\.tls\.protocol: expected a plain value or an object with exactly one of equals, oneOf/);
  });

  it('a client certificate that is not defined', () => {
    const bad = valid();
    (bad.checks[0] as Record<string, unknown>).client = { tls: { clientCertificate: 'nobody' } };
    expect(errorOf(make('no-client-cert', bad)).message).toMatch(/clientCertificate: expected the name of a certificate in this scenario \(server\)/);
  });

  it('an unknown cipher in an expected set names the file and the entry', () => {
    const bad = valid();
    bad.checks[0] = { id: 'c', title: 'c', enumerate: { protocol: 'TLSv1.2', accepted: ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA385'] } } as never;
    const e = errorOf(make('unknown-cipher', bad));
    expect(e.code).toBe('ESCENARIO');
    expect(e.message).toMatch(/unknown-cipher[/\\]scenario\.json: checks\[0\]\.enumerate\.accepted\[1\]: expected a cipher suite name OpenSSL or IANA knows .*found string "ECDHE-RSA-AES256-GCM-SHA385"/);
  });

  it('one broken scenario does not hide the others', () => {
    const root = path.join(tmp, 'catalogue');
    fs.mkdirSync(root);
    fs.renameSync(make('good-one', valid()), path.join(root, 'good-one'));
    fs.renameSync(make('broken-one', { ...valid(), checks: 3 }), path.join(root, 'broken-one'));
    const entries = loadCatalogue(root);
    expect(entries.map((e) => [e.id, e.error === null])).toEqual([
      ['broken-one', false],
      ['good-one', true],
    ]);
  });
});

/** Each of these loaded on the lab before "verdicts that cannot lie", and then passed or failed the server. */
describe('scenario files: a mistake in a check is an error when the file loads, never a verdict', () => {
  const withCheck = (check: Record<string, unknown>) => ({ ...valid(), checks: [{ id: 'c', title: 'c', ...check }] });

  it('a misspelt expectation path is refused with the nearest known path', () => {
    const e = errorOf(make('misspelt-path', withCheck({ clients: ['raw'], expect: { 'capabilites.beforeTls': { exists: false } } })));
    expect(e.code).toBe('ESCENARIO');
    expect(e.message).toMatch(/misspelt-path[/\\]scenario\.json: checks\[0\]\.expect\["capabilites\.beforeTls"\]: expected a path of client observation, found 'capabilites\.beforeTls' in check 'c'/);
    expect(e.detail).toMatch(/did you mean 'capabilities\.beforeTls'\?/);
  });

  it('a misspelt path under tls is refused, not reported as the server observing null', () => {
    const e = errorOf(make('misspelt-tls', withCheck({ expect: { 'tls.protcol': 'TLSv1.3' } })));
    expect(e.detail).toMatch(/did you mean 'tls\.protocol'\?/);
  });

  it('a misspelt field of a Postfix log event is refused, with the event type', () => {
    const e = errorOf(make('misspelt-log', withCheck({ expect: { error: null }, serverLog: { event: 'tls-established', expect: { protcol: 'TLSv1.3' } } })));
    expect(e.message).toMatch(/serverLog\.expect\["protcol"\]: expected a path of 'tls-established' log event/);
    expect(e.detail).toMatch(/did you mean 'protocol'\?/);
  });

  it('an unknown log event type lists the parser\'s types', () => {
    const e = errorOf(make('unknown-event', withCheck({ expect: { error: null }, serverLog: { event: 'tls-establised' } })));
    expect(e.message).toMatch(/serverLog\.event: expected one of .*'tls-established'/);
  });

  it('a reference to an observation field that does not exist is refused', () => {
    const e = errorOf(make('bad-reference', withCheck({ expect: { error: null }, serverLog: { event: 'tls-established', expect: { cipher: { equalsObserved: 'tls.cipher.opensll' } } } })));
    expect(e.message).toMatch(/'tls\.cipher\.opensll' in check 'c', which the observation has not/);
  });

  it('a check with no expectation at all is refused', () => {
    const e = errorOf(make('no-expectations', withCheck({ clients: ['raw'], expect: {} })));
    expect(e.message).toMatch(/checks\[0\]: expected a check with at least one expectation/);
  });

  it('an expectation a client cannot observe is refused, naming the client', () => {
    const e = errorOf(make('blind-client', withCheck({ clients: ['raw', 'openssl'], expect: { 'capabilities.beforeTls': { includes: 'STARTTLS' } } })));
    expect(e.message).toMatch(/'capabilities\.beforeTls' in check 'c', which client 'openssl' cannot observe in starttls mode/);
    expect(e.detail).toMatch(/remove 'openssl' from this check's clients/);
  });

  it('an expectation on what the client was asked to send (its SNI) is refused', () => {
    const e = errorOf(make('request-echo', withCheck({ expect: { 'tls.sniSent': null } })));
    expect(e.message).toMatch(/'tls\.sniSent' in check 'c'/);
    expect(e.detail).toMatch(/echoes what the client was asked to do/);
  });

  it('a plain value compared with a record is refused, naming its fields', () => {
    const e = errorOf(make('value-on-record', withCheck({ expect: { 'tls.cipher': 'TLS_AES_256_GCM_SHA384' } })));
    expect(e.message).toMatch(/expected a matcher that can hold for a record at 'tls\.cipher'/);
    expect(e.detail).toMatch(/tls\.cipher\.openssl/);
  });

  it('a plain value compared with a list is refused, with the list operators', () => {
    const e = errorOf(make('value-on-list', withCheck({ expect: { 'capabilities.beforeTls': 'STARTTLS' } })));
    expect(e.message).toMatch(/expected a matcher that can hold for a list at 'capabilities\.beforeTls'/);
    expect(e.detail).toMatch(/"includes"/);
  });

  it('a service master.cf does not define is refused, with the ones it does', () => {
    const e = errorOf(make('unknown-service', withCheck({ service: 'submision', expect: { 'tls.protocol': 'TLSv1.3' } })));
    expect(e.message).toMatch(/checks\[0\]\.service: expected a service of this scenario's master\.cf \(smtp\/25/);
  });

  it('a check reaches TLS as Postfix runs the service: implicit only where smtpd_tls_wrappermode says so', () => {
    const master = '4650 inet n - n - - smtpd\n  -o smtpd_tls_wrappermode=yes\n465 inet n - n - - smtpd\n';
    const dir = make('wrapper-modes', { ...valid(), postfix: { mainCf: 'main.cf', masterCf: 'master.cf' }, checks: [{ id: 'w', title: 'w', service: '4650', expect: { 'tls.protocol': 'TLSv1.3' } }, { id: 's', title: 's', service: '465', expect: { 'tls.protocol': 'TLSv1.3' } }] }, undefined, { 'master.cf': master });
    expect(loadScenario(dir).checks.map((c) => (c.kind === 'client-handshake' ? [c.id, c.mode] : null))).toEqual([['w', 'implicit'], ['s', 'starttls']]);
  });

  it('list paths by index and length resolve', () => {
    expect(loadScenario(make('list-paths', withCheck({ expect: { 'capabilities.afterTls.length': { atLeast: 1 }, 'banner.lines.0': { matches: 'ESMTP' } } }))).checks).toHaveLength(1);
  });

  it('keys of another check kind are refused', () => {
    const e = errorOf(make('mixed-kinds', withCheck({ enumerate: { protocol: 'TLSv1.2', refused: ['AES128-SHA'] }, clients: ['raw'] })));
    expect(e.message).toMatch(/checks\[0\]\.clients: expected one of the known keys \(kind, id, title, why, configSays, service, enumerate\)/);
  });

  it('a "break it" change must name checks of the scenario and keep the lab guard', () => {
    const unknown = errorOf(make('breakit-unknown', { ...valid(), breakIt: [{ title: 't', mainCf: { set: { smtpd_tls_protocols: '>=TLSv1' } }, fails: ['nope'] }] }));
    expect(unknown.message).toMatch(/breakIt\[0\]\.fails\[0\]: expected the id of a check of this scenario \(c\)/);
    const guarded = errorOf(make('breakit-guarded', { ...valid(), breakIt: [{ title: 't', mainCf: { set: { relayhost: '[smtp.example.com]' } }, fails: ['c'] }] }));
    expect(guarded.message).toMatch(/relayhost is fixed by the lab/);
  });

  it('nodes must not depend on each other in a cycle', () => {
    const nodes = [
      { name: 'mx', kind: 'postfix', hostNumber: 10, dependsOn: ['client'] },
      { name: 'client', kind: 'client', hostNumber: 20, dependsOn: ['mx'] },
    ];
    expect(errorOf(make('node-cycle', { ...valid(), nodes })).message).toMatch(/nodes: expected nodes whose dependsOn has no cycle/);
  });

  it('the default topology is one Postfix and the lazy client container', () => {
    expect(loadScenario(make('default-nodes', valid())).nodes.map((n) => [n.name, n.kind, n.lazy])).toEqual([
      ['mx', 'postfix', false],
      ['client', 'client', true],
    ]);
  });
});

describe('scenario files: the outbound and DANE labs', () => {
  const outbound = () => ({
    id: 'x',
    title: 'outbound',
    postfix: { mainCf: 'main.cf' },
    certificates: { peer: { commonName: 'peer.lab.test' } },
    nodes: [
      { name: 'sender', kind: 'postfix', hostnames: ['sender.lab.test'], hostNumber: 10 },
      { name: 'peer', kind: 'smtp-peer', hostnames: ['peer.lab.test'], peer: { port: 25, certificate: 'peer' } },
    ],
    checks: [{ id: 'd', title: 'd', send: { to: ['u@peer.test'] }, expect: { 'deliveries.0.status': 'sent' } }],
  });
  const outMain = 'transport_maps = texthash:/etc/postfix/lab/maps/transport\n';

  it('accepts a sender, a capturing peer and a delivery check', () => {
    const s = loadScenario(make('outbound-base', outbound(), 'smtp_tls_security_level = may\n'));
    expect(s.nodes.map((n) => [n.name, n.kind])).toEqual([['sender', 'postfix'], ['peer', 'smtp-peer']]);
    expect(s.checks[0]!.kind).toBe('delivery');
  });

  it('a misspelt delivery path names the nearest one, with the peer node in it', () => {
    const j = outbound();
    j.checks[0]!.expect = { 'peers.peer.conections.0.starttls': true } as never;
    expect(errorOf(make('outbound-misspelt', j, outMain)).detail).toMatch(/did you mean 'peers\.peer\.connections/);
    j.checks[0]!.expect = { 'peers.nosuch.messages.length': 0 } as never;
    expect(errorOf(make('outbound-unknown-peer', j, outMain)).message).toMatch(/no delivery observation has/);
  });

  it('a peer that offers STARTTLS without a certificate, and two peers on one port, are refused', () => {
    const j = outbound();
    (j.nodes[1] as { peer: object }).peer = { port: 25 };
    expect(errorOf(make('peer-no-cert', j, outMain)).message).toMatch(/a "certificate" for a peer that offers STARTTLS/);
    const k = outbound();
    k.nodes.push({ name: 'peer2', kind: 'smtp-peer', hostnames: ['peer2.lab.test'], peer: { port: 25, certificate: 'peer' } } as never);
    expect(errorOf(make('peer-same-port', k, outMain)).message).toMatch(/a port no other peer listens on/);
  });

  it('a delivery check needs a receiving node', () => {
    const j = { ...outbound(), nodes: [outbound().nodes[0]] };
    expect(errorOf(make('delivery-no-receiver', j, outMain)).message).toMatch(/a receiving node/);
  });

  it('DANE zones: the anchor comes first and is signed; placeholders name nodes and certificates', () => {
    const dane = (zones: unknown) => ({ ...outbound(), nodes: [{ name: 'dns', kind: 'dns', hostNumber: 53 }, ...outbound().nodes], dns: { zones } });
    expect(loadScenario(make('dane-ok', dane([{ name: 'lab.test' }, { name: 'a.lab.test', records: ['mx A {{address:peer}}', '_25._tcp.mx TLSA {{tlsa:3 1 1:peer}}'] }]), 'smtp_tls_security_level = dane\n')).dns?.zones).toHaveLength(2);
    expect(errorOf(make('dane-unsigned-anchor', dane([{ name: 'lab.test', dnssec: 'unsigned' }]), 'smtp_tls_security_level = dane\n')).message).toMatch(/'signed' for the first zone/);
    expect(errorOf(make('dane-outside', dane([{ name: 'lab.test' }, { name: 'other.test' }]), 'smtp_tls_security_level = dane\n')).message).toMatch(/a zone below the anchor zone lab\.test/);
    expect(errorOf(make('dane-bad-node', dane([{ name: 'lab.test', records: ['mx A {{address:nosuch}}'] }]), 'smtp_tls_security_level = dane\n')).message).toMatch(/naming a node of the scenario .*nosuch/);
    expect(errorOf(make('dane-bad-cert', dane([{ name: 'lab.test', records: ['x TLSA {{tlsa:3 1 1:nosuch}}'] }]), 'smtp_tls_security_level = dane\n')).message).toMatch(/a certificate of this scenario in \{\{tlsa/);
    expect(errorOf(make('dane-no-node', { ...outbound(), dns: { zones: [{ name: 'lab.test' }] } }, 'smtp_tls_security_level = dane\n')).message).toMatch(/exactly one node of kind dns/);
  });
});
