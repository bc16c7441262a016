import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tarArchive } from '../../engine/tar.js';
import { KeyPool } from '../../certs/key-pool.js';
import { LabPki } from '../../certs/lab-pki.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-tar-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('tar archive for put-archive (the files Postfix reads, with a chosen mtime)', () => {
  it('GNU tar extracts every file with its content, mode, root owner and the given mtime, long paths included', () => {
    const mtime = new Date('2026-01-02T03:04:05Z');
    const long = `etc/postfix/lab/maps/${'d'.repeat(90)}/${'m'.repeat(60)}`;
    const files = [
      { target: '/etc/postfix/main.cf', content: 'smtpd_tls_security_level = may\n', mode: 0o644, mtime },
      { target: '/etc/postfix/lab/maps/empty', content: '', mode: 0o600, mtime },
      { target: `/${long}`, content: Buffer.alloc(1000, 0x61), mode: 0o640, mtime },
    ];
    const archive = path.join(dir, 'a.tar');
    fs.writeFileSync(archive, tarArchive(files));
    const listed = spawnSync('tar', ['-tvf', archive, '--numeric-owner', '--full-time'], { encoding: 'utf8' });
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^-rw-r--r-- 0\/0 +31 2026-01-02 03:04:05 etc\/postfix\/main\.cf$/m);
    expect(listed.stdout).toMatch(/^-rw------- 0\/0 +0 2026-01-02 03:04:05 etc\/postfix\/lab\/maps\/empty$/m);
    const out = path.join(dir, 'x');
    fs.mkdirSync(out);
    const x = spawnSync('tar', ['-xf', archive, '-C', out], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    expect(x.status, x.stderr).toBe(0);
    expect(fs.readFileSync(path.join(out, 'etc/postfix/main.cf'), 'utf8')).toBe(files[0]!.content);
    expect(fs.readFileSync(path.join(out, long)).equals(files[2]!.content as Buffer)).toBe(true);
    expect(fs.statSync(path.join(out, long)).mode & 0o777).toBe(0o640);
    expect(fs.statSync(path.join(out, 'etc/postfix/main.cf')).mtime.toISOString()).toBe('2026-01-02T03:04:05.000Z');
  });

  it('refuses a path that climbs out or is empty', () => {
    const mtime = new Date();
    expect(() => tarArchive([{ target: '/etc/../x', content: '', mode: 0o644, mtime }])).toThrow(/not a file path/);
    expect(() => tarArchive([{ target: '/', content: '', mode: 0o644, mtime }])).toThrow(/not a file path/);
  });
});

describe('keys made ahead', () => {
  it('every take is a fresh key of the asked size, never one handed out before', async () => {
    const pool = new KeyPool(2);
    pool.fill('rsa-2048');
    const keys = await Promise.all([pool.take('rsa-2048'), pool.take('rsa-2048'), pool.take('rsa-2048'), pool.take('ec-p256'), pool.take('ec-p384')]);
    expect(new Set(keys.map((k) => k.publicKey)).size).toBe(keys.length);
    const details = keys.map((k) => createPublicKey(k.publicKey).asymmetricKeyDetails);
    expect(details.slice(0, 3).map((d) => d?.modulusLength)).toEqual([2048, 2048, 2048]);
    expect(details.slice(3).map((d) => d?.namedCurve)).toEqual(['prime256v1', 'secp384r1']);
    for (const k of keys) expect(createPublicKey(createPrivateKey(k.privateKey)).export({ type: 'spki', format: 'pem' })).toBe(k.publicKey);
  });

  it('a leaf issued from a pooled key holds that key, is signed by its lab root, and no two leaves share a key', async () => {
    const pki = await LabPki.create();
    const leaves = await Promise.all([pki.issue({ commonName: 'mx.lab.test', key: 'rsa-2048' }), pki.issue({ commonName: 'mx.lab.test', key: 'rsa-2048' }), pki.issue({ commonName: 'mx.lab.test' })]);
    for (const [i, leaf] of leaves.entries()) {
      const cert = new X509Certificate(leaf.cert);
      expect(cert.checkPrivateKey(createPrivateKey(leaf.key))).toBe(true);
      expect(cert.verify(new X509Certificate(i < 2 ? pki.rsaCa.cert : pki.ecCa.cert).publicKey)).toBe(true);
    }
    const spkis = leaves.map((l) => new X509Certificate(l.cert).publicKey.export({ type: 'spki', format: 'der' }).toString('hex'));
    expect(new Set(spkis).size).toBe(3);
  });
});
