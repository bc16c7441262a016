import { describe, expect, it } from 'vitest';
import { HandshakeReassembler, Malformed, MAX_RECORD_BYTES, RecordReader, type RecordStep } from '../../tls/record-layer.js';

/** The record layer alone: records across reads, several in one read, bounds, and a bad header that stops it. */

const record = (type: number, body: Buffer, version = 0x0303) => {
  const h = Buffer.alloc(5);
  h[0] = type;
  h.writeUInt16BE(version, 1);
  h.writeUInt16BE(body.length, 3);
  return Buffer.concat([h, body]);
};

function drain(r: RecordReader): RecordStep[] {
  const out: RecordStep[] = [];
  for (;;) {
    const s = r.next();
    out.push(s);
    if (s.kind !== 'record') return out;
  }
}

describe('RecordReader', () => {
  it('three records in one read come out in order, with their stream offsets', () => {
    const r = new RecordReader();
    r.push(Buffer.concat([record(22, Buffer.from('aa')), record(21, Buffer.from([2, 40])), record(23, Buffer.alloc(300, 1))]));
    const steps = drain(r);
    expect(steps.map((s) => s.kind)).toEqual(['record', 'record', 'record', 'need-more']);
    const recs = steps.flatMap((s) => (s.kind === 'record' ? [s.record] : []));
    expect(recs.map((x) => [x.type, x.offset, x.fragment.length])).toEqual([
      [22, 0, 2],
      [21, 7, 2],
      [23, 14, 300],
    ]);
    expect(r.offset).toBe(319);
  });

  it('a record split over reads (inside the header too) comes out once, when whole', () => {
    const bytes = record(22, Buffer.alloc(1000, 9));
    const r = new RecordReader();
    for (const cut of [[0, 3], [3, 500], [500, 1004]]) {
      r.push(bytes.subarray(cut[0], cut[1]));
      expect(r.next().kind).toBe('need-more');
    }
    r.push(bytes.subarray(1004));
    const s = r.next();
    expect(s.kind === 'record' && s.record.fragment.equals(Buffer.alloc(1000, 9))).toBe(true);
  });

  it('a header announcing more than MAX_RECORD_BYTES stops the reader before it buffers the body', () => {
    const r = new RecordReader();
    const h = Buffer.from([22, 3, 3, 0, 0]);
    h.writeUInt16BE(MAX_RECORD_BYTES + 1, 3);
    r.push(h);
    expect(r.next()).toMatchObject({ kind: 'too-long', length: MAX_RECORD_BYTES + 1, offset: 0 });
    r.push(Buffer.alloc(100));
    expect(r.next().kind).toBe('too-long');
  });

  it('bytes that are not a record header: the reader says so, at their offset, and keeps saying it', () => {
    const r = new RecordReader();
    r.push(Buffer.concat([record(22, Buffer.from('x')), Buffer.from('220 smtp\r\n')]));
    expect(r.next().kind).toBe('record');
    expect(r.next()).toMatchObject({ kind: 'not-a-record', offset: 6 });
    expect(r.next().kind).toBe('not-a-record');
    expect(r.pending.toString()).toBe('220 smtp\r\n');
  });
});

describe('HandshakeReassembler', () => {
  it('a message across three fragments, then two messages in one fragment', () => {
    const hs = new HandshakeReassembler(1 << 16);
    const msg = Buffer.concat([Buffer.from([1, 0, 0, 10]), Buffer.alloc(10, 5)]);
    hs.push(msg.subarray(0, 2));
    expect(hs.next()).toBeNull();
    hs.push(msg.subarray(2, 9));
    expect(hs.next()).toBeNull();
    hs.push(msg.subarray(9));
    expect(hs.next()).toMatchObject({ type: 1 });
    hs.push(Buffer.from([14, 0, 0, 0, 2, 0, 0, 1, 7]));
    expect(hs.next()).toMatchObject({ type: 14 });
    expect(hs.next()?.body).toEqual(Buffer.from([7]));
    expect(hs.next()).toBeNull();
    expect(hs.pendingBytes).toBe(0);
  });

  it('a message announcing more than the limit is Malformed at once', () => {
    const hs = new HandshakeReassembler(100);
    hs.push(Buffer.from([1, 0, 1, 0]));
    expect(() => hs.next()).toThrow(Malformed);
  });
});
