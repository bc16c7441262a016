import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectGolden } from '../golden-file.js';

describe('golden files: an update can never pass the run that made it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-golden-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'events.json');
  const events = [{ type: 'connect', peer: { addr: '10.0.0.20', port: 41000 } }];
  const update = { UPDATE_GOLDEN: '1' };

  it('a missing golden file fails and says how to make one', () => {
    expect(() => expectGolden(file, events, {})).toThrow(/no golden file .*UPDATE_GOLDEN=1/);
  });

  it('UPDATE_GOLDEN=1 writes the file and fails the test', () => {
    expect(() => expectGolden(file, events, update)).toThrow(/golden updated: .*review the diff and rerun without UPDATE_GOLDEN/);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(events);
  });

  it('UPDATE_GOLDEN=1 fails even when nothing changed', () => {
    expect(() => expectGolden(file, events, update)).toThrow(/golden rewritten unchanged/);
  });

  it('without UPDATE_GOLDEN: equal values pass, a difference fails', () => {
    expectGolden(file, events, {});
    expect(() => expectGolden(file, [{ ...events[0], peer: { addr: '10.0.0.20', port: 41001 } }], {})).toThrow(/golden file/);
    expect(() => expectGolden(file, [], {})).toThrow();
  });

  it('only UPDATE_GOLDEN=1 updates; any other value compares', () => {
    expect(() => expectGolden(file, [], { UPDATE_GOLDEN: 'yes' })).toThrow(/golden file/);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(events);
  });

  it('strings are compared as text', () => {
    const text = path.join(dir, 'banner.txt');
    expect(() => expectGolden(text, '220 mx.lab.test ESMTP\r\n', update)).toThrow(/golden updated/);
    expectGolden(text, '220 mx.lab.test ESMTP\r\n', {});
    expect(() => expectGolden(text, '220 mx.lab.test ESMTP\n', {})).toThrow();
  });
});
