/** Zone rendering for the dns node: signing order, the lab's SOA/NS/delegations, placeholders, TLSA data. */
import { describe, expect, it } from 'vitest';
import { LabPki } from '../../certs/lab-pki.js';
import { LabError } from '../../core/errors.js';
import { parentZone, renderZones } from '../../dns/zone.js';
import { tlsaData } from '../../dns/tlsa.js';

describe('lab zones', () => {
  it('signs children before parents, delegates each child, and fills addresses and TLSA data', async () => {
    const pki = await LabPki.create();
    const peer = await pki.issue({ commonName: 'mx.good.lab.test', key: 'ec-p256' });
    const spec = {
      zones: [
        { name: 'lab.test', dnssec: 'signed' as const, corruptType: null, records: [] },
        { name: 'good.lab.test', dnssec: 'signed' as const, corruptType: null, records: ['@ MX 10 mx', 'mx A {{address:peer}}', '_25._tcp.mx TLSA {{tlsa:3 1 1:peer}}', '_26._tcp.mx TLSA {{tlsa:2 1 1:peer@issuer}}'] },
        { name: 'bad.lab.test', dnssec: 'corrupt' as const, corruptType: 'TLSA', records: [] },
        { name: 'deep.good.lab.test', dnssec: 'unsigned' as const, corruptType: null, records: [] },
      ],
    };
    const r = renderZones(spec, { address: (n) => (n === 'peer' ? '10.213.1.1' : '?'), dnsAddress: '10.213.1.53', certs: new Map([['peer', peer]]) });
    expect(r.plan.trim().split('\n')).toEqual(['deep.good.lab.test unsigned good.lab.test', 'good.lab.test signed lab.test', 'bad.lab.test corrupt:TLSA lab.test', 'lab.test signed -']);
    expect(r.files['lab.test']).toContain('ns IN A 10.213.1.53');
    expect(r.files['lab.test']).toContain('good.lab.test. IN NS ns.lab.test.');
    expect(r.files['lab.test']).not.toContain('deep.good.lab.test. IN NS');
    expect(r.files['good.lab.test']).toContain('deep.good.lab.test. IN NS ns.lab.test.');
    expect(r.files['good.lab.test']).toContain('mx A 10.213.1.1');
    expect(r.files['good.lab.test']).toContain(`_25._tcp.mx TLSA ${tlsaData(peer.cert, 3, 1, 1)}`);
    expect(r.files['good.lab.test']).toContain(`_26._tcp.mx TLSA ${tlsaData(peer.chain, 2, 1, 1)}`);
    expect(parentZone('x.good.lab.test', ['lab.test', 'good.lab.test'])).toBe('good.lab.test');
  });

  it('refuses a TLSA placeholder it cannot fill', async () => {
    const spec = { zones: [{ name: 'lab.test', dnssec: 'signed' as const, corruptType: null, records: ['x TLSA {{tlsa:3 1 1:nosuch}}'] }] };
    expect(() => renderZones(spec, { address: () => '', dnsAddress: '10.0.0.1', certs: new Map() })).toThrow(LabError);
  });

  it('TLSA data: selector and matching type change what is hashed', async () => {
    const pki = await LabPki.create();
    const c = await pki.issue({ commonName: 'a.lab.test', key: 'ec-p256' });
    const [a, b, full, sha512] = [tlsaData(c.cert, 3, 1, 1), tlsaData(c.cert, 3, 0, 1), tlsaData(c.cert, 3, 0, 0), tlsaData(c.cert, 3, 1, 2)];
    expect(a).toMatch(/^3 1 1 [0-9a-f]{64}$/);
    expect(b).toMatch(/^3 0 1 [0-9a-f]{64}$/);
    expect(a.slice(6)).not.toBe(b.slice(6));
    expect(full).toMatch(/^3 0 0 30[0-9a-f]+$/);
    expect(sha512).toMatch(/^3 1 2 [0-9a-f]{128}$/);
    expect(() => tlsaData(c.cert, 4, 1, 1)).toThrow(LabError);
  });
});
