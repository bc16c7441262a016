import { describe, expect, it } from 'vitest';
import { LabError } from '../../core/errors.js';
import { selectedForCleanup, type LabObject } from '../../engine/cleanup.js';
import { freeSubnet, subnetPool } from '../../engine/lab-network.js';
import { OWNER_PID, RUN_ID } from '../../engine/labels.js';
import { NODE_KINDS, planTopology } from '../../lab/topology.js';
import { smtpdInetServices } from '../../lab/warm-up.js';
import { parseMainCf } from '../../postfix/main-cf.js';
import { parseMasterCf } from '../../postfix/master-cf.js';
import { DEFAULT_NODES, type LabNodeSpec } from '../../scenario/types.js';
import { DEFAULT_PEER_SPEC } from '../../peer/peer-spec.js';

const node = (name: string, over: Partial<LabNodeSpec> = {}): LabNodeSpec => ({ name, kind: 'client', hostnames: [`${name}.lab.test`], hostNumber: 30, dependsOn: [], lazy: false, ...over });

function refusal(nodes: LabNodeSpec[]): string {
  try {
    planTopology('t', nodes);
  } catch (err) {
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('ESCENARIO');
    return (err as LabError).message;
  }
  return 'accepted';
}

describe('topology plan', () => {
  it('the default topology plans as mx, then client; every kind in it has a builder', () => {
    expect(planTopology('t', DEFAULT_NODES).map((n) => n.name)).toEqual(['mx', 'client']);
    for (const n of DEFAULT_NODES) expect(typeof NODE_KINDS[n.kind].start).toBe('function');
  });

  it('dependencies first, otherwise the order as declared', () => {
    const nodes = [node('a', { dependsOn: ['c'], hostNumber: 11 }), node('b', { hostNumber: 12 }), node('c', { hostNumber: 13, kind: 'postfix' })];
    expect(planTopology('t', nodes).map((n) => n.name)).toEqual(['b', 'c', 'a']);
  });

  it('refuses what cannot be built, naming it', () => {
    const mx = node('mx', { kind: 'postfix', hostNumber: 10 });
    expect(refusal([])).toMatch(/at least one node/);
    expect(refusal([mx, node('mx', { hostNumber: 11 })])).toMatch(/two nodes are named mx/);
    expect(refusal([mx, node('c', { hostNumber: 10 })])).toMatch(/mx and c have the same hostNumber 10/);
    expect(refusal([mx, node('c', { hostnames: ['mx.lab.test'] })])).toMatch(/hostname mx\.lab\.test belongs to both mx and c/);
    expect(refusal([mx, node('c', { dependsOn: ['nsd'] })])).toMatch(/c depends on nsd, which is not a node/);
    expect(refusal([mx, node('c', { dependsOn: ['c'] })])).toMatch(/c depends on itself/);
    expect(refusal([node('mx', { kind: 'postfix', hostNumber: 10, dependsOn: ['c'] }), node('c', { dependsOn: ['mx'] })])).toMatch(/mx, c form a cycle/);
    // Several Postfix nodes are allowed (a sender and a receiving MX); capturing peers share the gateway address, so not a port.
    expect(refusal([mx, node('mx2', { kind: 'postfix', hostNumber: 11 })])).toBe('accepted');
    const peer = (name: string, port: number) => node(name, { kind: 'smtp-peer', hostNumber: 1, peer: { ...DEFAULT_PEER_SPEC, certificate: 'peer', port } });
    expect(refusal([mx, peer('p1', 25), peer('p2', 2525)])).toBe('accepted');
    expect(refusal([mx, peer('p1', 25), peer('p2', 25)])).toMatch(/peers p1 and p2 both listen on port 25/);
    expect(refusal([mx, node('c', { hostNumber: 251 })])).toMatch(/hostNumber 251 must be a whole number from 10 to 250/);
    expect(refusal([mx, node('C_1')])).toMatch(/node name 'C_1' must match/);
    expect(refusal([mx, node('c', { kind: 'nsd' as never })])).toMatch(/unknown kind 'nsd'/);
  });
});

describe('subnets', () => {
  it('a free /24 of the pool overlaps no subnet in use; a full pool has none', () => {
    const pool = subnetPool('10.213.0.0/22');
    const used = [{ base: pool.base, bits: 24 }, { base: pool.base + 512, bits: 23 }];
    for (let i = 0; i < 20; i++) expect(freeSubnet(pool, used)).toEqual({ base: pool.base + 256, bits: 24 });
    expect(freeSubnet(pool, [{ base: pool.base - 65536, bits: 8 }])).toBeNull();
    expect(() => subnetPool('10.0.0.0/8')).toThrow(/not an IPv4 range from \/16 to \/24/);
  });
});

describe('warm-up services', () => {
  it('each smtpd inet service, with wrapper mode from its -o override or main.cf; postscreen and unix services are not smtpd inet services', () => {
    const master = parseMasterCf(
      [
        'smtp      inet  n       -       n       -       1       postscreen',
        'smtpd     pass  -       -       n       -       -       smtpd',
        'submission inet n       -       n       -       -       smtpd',
        '  -o smtpd_tls_security_level=encrypt',
        'smtps     inet  n       -       n       -       -       smtpd',
        '  -o syslog_name=postfix/smtps',
        '  -o smtpd_tls_wrappermode=yes',
        '127.0.0.1:2525 inet n   -       n       -       -       smtpd',
        '  -o { smtpd_tls_wrappermode = no }',
      ].join('\n'),
      'master.cf',
    );
    expect(smtpdInetServices(master, [])).toEqual([
      { service: 'submission', port: 587, wrapper: false },
      { service: 'smtps', port: 465, wrapper: true },
      { service: '127.0.0.1:2525', port: 2525, wrapper: false },
    ]);
    expect(smtpdInetServices(master, parseMainCf('smtpd_tls_wrappermode = yes\n', 'main.cf')).map((s) => s.wrapper)).toEqual([true, true, false]);
  });
});

describe('cleanup touches only what it made, on this host, of dead runs', () => {
  const me = 'this-host/0123456789abcdef';
  const dead = 999_999_999; // above any pid_max: no such process
  const obj = (o: Partial<LabObject>): LabObject => ({ id: 'x', pid: dead, host: me, run: 'old-run', ...o });

  it('a dead run of this host is a leftover; a live one, this run, another host and an unknown owner are not', () => {
    expect(selectedForCleanup(obj({}), 'leftovers', me)).toBe(true);
    expect(selectedForCleanup(obj({ pid: process.pid }), 'leftovers', me)).toBe(false);
    expect(selectedForCleanup(obj({ run: RUN_ID, pid: OWNER_PID }), 'leftovers', me)).toBe(false);
    expect(selectedForCleanup(obj({ host: 'this-host/another-id' }), 'leftovers', me)).toBe(false);
    expect(selectedForCleanup(obj({ pid: 0 }), 'leftovers', me)).toBe(false);
  });

  it("'all' is every run of this host but this one; 'run' is this run's own; neither reaches another host", () => {
    expect(selectedForCleanup(obj({ pid: process.pid }), 'all', me)).toBe(true);
    expect(selectedForCleanup(obj({ run: RUN_ID }), 'all', me)).toBe(false);
    expect(selectedForCleanup(obj({ host: 'elsewhere/1' }), 'all', me)).toBe(false);
    expect(selectedForCleanup(obj({ run: RUN_ID }), 'run', me)).toBe(true);
    expect(selectedForCleanup(obj({ run: RUN_ID, host: 'elsewhere/1' }), 'run', me)).toBe(false);
  });
});
