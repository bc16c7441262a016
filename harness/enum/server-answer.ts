import crypto from 'node:crypto';
import { forTerminal } from '../core/escape.js';
import { CONTENT_TYPE, EXT, HANDSHAKE_TYPE } from '../tls/codes.js';
import { Cursor, HandshakeReassembler, Malformed, MAX_RECORD_BYTES, RecordReader } from '../tls/record-layer.js';
import { keyExchangeOf, type ProbeVersion, versionFromCode } from './cipher-suites.js';

/**
 * Reads what a server sends back to a hand-built ClientHello: a ServerHello (with, for
 * TLS <= 1.2, its Certificate, ServerKeyExchange and ServerHelloDone), a HelloRetryRequest,
 * an alert, an SSLv2 error, or something that is not TLS at all. Bytes are fed as they
 * arrive; the reader says when it knows the answer. A hostile or broken server can neither
 * make it throw nor grow its memory past MAX_TOTAL_BYTES: it is reported as 'garbage'.
 */

export interface AlertInfo {
  readonly level: number;
  readonly description: number;
  readonly name: string;
}

export type ServerKeyExchangeInfo = { readonly kind: 'dhe'; readonly primeBits: number } | { readonly kind: 'ecdhe'; readonly group: number };

export interface ServerHelloAnswer {
  readonly kind: 'server-hello';
  readonly version: ProbeVersion;
  readonly cipher: number;
  readonly compression: number;
  readonly sessionIdLength: number;
  /** Extension types in the order the server sent them (for TLS 1.3, only the clear ServerHello's). */
  readonly extensions: readonly number[];
  readonly secureRenegotiation: boolean;
  readonly extendedMasterSecret: boolean;
  readonly sessionTicket: boolean;
  readonly helloRetryRequest: boolean;
  /** TLS 1.3: the key_share group (ServerHello) or the group asked for (HelloRetryRequest). */
  readonly selectedGroup: number | null;
  /** TLS <= 1.2 Certificate message (DER, leaf first), if it arrived. */
  readonly certificates: readonly Buffer[] | null;
  /** TLS <= 1.2 ServerKeyExchange for (EC)DHE suites, if it arrived. */
  readonly serverKeyExchange: ServerKeyExchangeInfo | null;
  /** The RFC 8446 4.1.3 downgrade sentinel in server_random: the server can do better than it negotiated. */
  readonly downgradeSentinel: 'TLSv1.2' | 'TLSv1.1' | null;
  /** TLS <= 1.2: a CertificateRequest arrived (the server asks for a client certificate). */
  readonly certificateRequested: boolean;
  /** TLS <= 1.2: a CertificateStatus (stapled OCSP) message arrived. */
  readonly certificateStatus: boolean;
  /** False when the server's flight was cut short (finish() before ServerHelloDone). */
  readonly complete: boolean;
  /** An alert that came after the ServerHello, before ServerHelloDone. */
  readonly alertAfterHello: AlertInfo | null;
}

export type ServerAnswer =
  | ServerHelloAnswer
  | ({ readonly kind: 'alert' } & AlertInfo)
  | { readonly kind: 'sslv2-error'; readonly text: string }
  | { readonly kind: 'garbage'; readonly reason: string; readonly firstBytes: string; readonly printable: string };

export type FinishedAnswer = ServerAnswer | { readonly kind: 'closed'; readonly bytes: number } | { readonly kind: 'timeout'; readonly bytes: number };

export { MAX_RECORD_BYTES } from '../tls/record-layer.js';
/** A ServerHello flight with a long chain is ~10 KiB; past this the server is not answering a hello. */
export const MAX_TOTAL_BYTES = 256 * 1024;
/** How much non-TLS text is kept to show in the report. */
const GARBAGE_SAMPLE = 64;

/** SHA-256("HelloRetryRequest"): the server_random of a HelloRetryRequest (RFC 8446 4.1.3). */
export const HRR_RANDOM: Buffer = crypto.createHash('sha256').update('HelloRetryRequest').digest();
const DOWNGRADE_TLS12 = Buffer.from('444f574e47524401', 'hex'); // "DOWNGRD" 01
const DOWNGRADE_TLS11 = Buffer.from('444f574e47524400', 'hex'); // "DOWNGRD" 00

/** Alert descriptions (IANA "TLS Alerts"). */
export const ALERT_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  21: 'decryption_failed',
  22: 'record_overflow',
  30: 'decompression_failure',
  40: 'handshake_failure',
  41: 'no_certificate',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  60: 'export_restriction',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  100: 'no_renegotiation',
  109: 'missing_extension',
  110: 'unsupported_extension',
  111: 'certificate_unobtainable',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  114: 'bad_certificate_hash_value',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
});

export function alertName(description: number): string {
  return ALERT_NAMES[description] ?? `unknown(${description})`;
}

const SSLV2_ERRORS: Readonly<Record<number, string>> = { 1: 'NO-CIPHER-ERROR', 2: 'NO-CERTIFICATE-ERROR', 4: 'BAD-CERTIFICATE-ERROR', 6: 'UNSUPPORTED-CERTIFICATE-TYPE-ERROR' };

const CT = CONTENT_TYPE;
const HS = HANDSHAKE_TYPE;

interface HelloState {
  version: ProbeVersion;
  cipher: number;
  compression: number;
  sessionIdLength: number;
  extensions: number[];
  helloRetryRequest: boolean;
  selectedGroup: number | null;
  downgradeSentinel: 'TLSv1.2' | 'TLSv1.1' | null;
  certificates: Buffer[] | null;
  serverKeyExchange: ServerKeyExchangeInfo | null;
  certificateRequested: boolean;
  certificateStatus: boolean;
  alertAfterHello: AlertInfo | null;
}

function hex(b: Buffer, max = 32): string {
  return b.subarray(0, max).toString('hex');
}

function bitLength(b: Buffer): number {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  if (i === b.length) return 0;
  return (b.length - i - 1) * 8 + (32 - Math.clz32(b[i]!));
}

/** Freeze a record and its arrays; Buffers cannot be frozen and are left as they are. */
function freeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Buffer.isBuffer(v) && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v as object)) freeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

function parseServerHello(body: Buffer): HelloState {
  const c = new Cursor(body, 'ServerHello');
  const legacyVersion = c.u16();
  const random = c.bytes(32);
  const sessionIdLength = c.vec8().length;
  if (sessionIdLength > 32) throw new Malformed(`ServerHello: session id of ${sessionIdLength} bytes`, body);
  const cipher = c.u16();
  const compression = c.u8();
  const extensions: number[] = [];
  let selectedVersion: number | null = null;
  let keyShare: Buffer | null = null;
  if (c.left > 0) {
    const exts = new Cursor(c.vec16(), 'ServerHello extensions');
    while (exts.left > 0) {
      const type = exts.u16();
      const data = exts.vec16();
      extensions.push(type);
      if (type === EXT.supportedVersions) selectedVersion = new Cursor(data, 'supported_versions').u16();
      if (type === EXT.keyShare) keyShare = data;
    }
  }
  if (c.left > 0) throw new Malformed(`ServerHello: ${c.left} bytes after the extensions`, body);
  const helloRetryRequest = random.equals(HRR_RANDOM);
  const code = selectedVersion ?? legacyVersion;
  const version = versionFromCode(code);
  if (!version) throw new Malformed(`ServerHello: version 0x${code.toString(16).padStart(4, '0')} is not one the lab knows`, body);
  if (helloRetryRequest && version !== 'TLSv1.3') throw new Malformed(`HelloRetryRequest selecting ${version}`, body);
  let selectedGroup: number | null = null;
  if (keyShare && version === 'TLSv1.3') {
    // HelloRetryRequest: KeyShareHelloRetryRequest { selected_group }; ServerHello: KeyShareEntry { group, key_exchange }.
    selectedGroup = new Cursor(keyShare, 'key_share').u16();
  }
  const tail = random.subarray(24);
  const downgradeSentinel = tail.equals(DOWNGRADE_TLS12) ? 'TLSv1.2' : tail.equals(DOWNGRADE_TLS11) ? 'TLSv1.1' : null;
  return {
    version,
    cipher,
    compression,
    sessionIdLength,
    extensions,
    helloRetryRequest,
    selectedGroup,
    downgradeSentinel,
    certificates: null,
    serverKeyExchange: null,
    certificateRequested: false,
    certificateStatus: false,
    alertAfterHello: null,
  };
}

function parseCertificates(body: Buffer): Buffer[] {
  const c = new Cursor(body, 'Certificate');
  const list = new Cursor(c.vec24(), 'certificate_list');
  if (c.left > 0) throw new Malformed(`Certificate: ${c.left} bytes after the list`, body);
  const out: Buffer[] = [];
  while (list.left > 0) out.push(Buffer.from(list.vec24())); // a copy: keep no view on the receive buffer
  return out;
}

/** DHE: ServerDHParams { dh_p, dh_g, dh_Ys }; ECDHE: ECParameters { curve_type named_curve(3), namedcurve } (RFC 5246 7.4.3, RFC 8422 5.4). */
function parseServerKeyExchange(body: Buffer, cipher: number): ServerKeyExchangeInfo | null {
  const kx = keyExchangeOf(cipher);
  const c = new Cursor(body, 'ServerKeyExchange');
  if (kx === 'dhe-psk' || kx === 'ecdhe-psk') c.vec16(); // psk_identity_hint comes first (RFC 4279, RFC 5489)
  if (kx === 'dhe' || kx === 'dhe-psk') {
    const p = c.vec16();
    if (p.length === 0) throw new Malformed('ServerKeyExchange: empty DH prime', body);
    return { kind: 'dhe', primeBits: bitLength(p) };
  }
  if (kx === 'ecdhe' || kx === 'ecdhe-psk') {
    const curveType = c.u8();
    // Explicit curves (types 1 and 2) are deprecated (RFC 8422) and carry no group code.
    return curveType === 3 ? { kind: 'ecdhe', group: c.u16() } : null;
  }
  return null;
}

export class ServerAnswerReader {
  private records = new RecordReader(MAX_RECORD_BYTES);
  private handshake = new HandshakeReassembler(MAX_TOTAL_BYTES);
  private total = 0;
  private sawRecord = false;
  private hello: HelloState | null = null;
  private warning: AlertInfo | null = null;
  /** Set when the stream did not start as TLS: we keep a short sample, then answer 'garbage'. */
  private text: { reason: string; sample: Buffer } | null = null;
  private result: ServerAnswer | null = null;

  /** Bytes received so far (after the answer is known, later bytes are counted but not kept). */
  get bytes(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.result) return;
    if (this.text) return this.collectText(chunk);
    if (this.total > MAX_TOTAL_BYTES) {
      this.garbage(`more than ${MAX_TOTAL_BYTES} bytes without a complete answer`, chunk.subarray(0, 16));
      return;
    }
    this.records.push(chunk);
    try {
      this.readRecords();
    } catch (err) {
      if (!(err instanceof Malformed)) throw err;
      this.garbage(err.message, err.at.subarray(0, 16));
    }
  }

  answer(): ServerAnswer | null {
    return this.result;
  }

  finish(reason: 'closed' | 'timeout'): FinishedAnswer {
    if (this.result) return this.result;
    if (this.text) return this.garbage(this.text.reason, this.text.sample);
    if (this.hello) return this.conclude(false);
    if (this.warning) return this.settle({ kind: 'alert', ...this.warning });
    return freeze({ kind: reason, bytes: this.total });
  }

  private settle(a: ServerAnswer): ServerAnswer {
    this.result = freeze(a);
    this.records = new RecordReader(MAX_RECORD_BYTES);
    this.handshake.clear();
    return this.result;
  }

  private garbage(reason: string, at: Buffer): ServerAnswer {
    return this.settle({ kind: 'garbage', reason, firstBytes: hex(at), printable: forTerminal(at.toString('latin1'), 200) });
  }

  /** Non-TLS text (an SMTP reply, an HTTP error page): wait for its first line so the report can show it. */
  private collectText(chunk: Buffer): void {
    const t = this.text!;
    t.sample = Buffer.concat([t.sample, chunk.subarray(0, GARBAGE_SAMPLE - t.sample.length)]);
    if (t.sample.length >= GARBAGE_SAMPLE || t.sample.includes(0x0a)) {
      const nl = t.sample.indexOf(0x0a);
      this.garbage(t.reason, nl >= 0 ? t.sample.subarray(0, nl + 1) : t.sample);
    }
  }

  private readRecords(): void {
    while (!this.result) {
      const start = this.records.pending;
      if (!this.sawRecord && start.length > 0 && this.sslv2(start)) return;
      const step = this.records.next();
      switch (step.kind) {
        case 'need-more':
          return;
        case 'not-a-record': {
          if (this.sawRecord) return void this.garbage(`not a TLS record header after ${step.offset} bytes`, step.header);
          // The very first bytes are not TLS: most likely the server is still speaking SMTP.
          this.text = { reason: 'the answer is not TLS', sample: Buffer.alloc(0) };
          return this.collectText(this.records.takePending());
        }
        case 'too-long':
          return void this.garbage(`a TLS record of ${step.length} bytes (at most ${MAX_RECORD_BYTES} allowed)`, step.header);
        case 'record':
          this.sawRecord = true;
          this.record(step.record.type, step.record.fragment);
      }
    }
  }

  /** An SSLv2 server answers with a 2-byte header, high bit set (draft-hickman SSLv2 2.1), never with a TLS record. */
  private sslv2(b: Buffer): boolean {
    if ((b[0]! & 0x80) === 0) return false;
    if (b.length < 3) return true; // wait for the message type
    const type = b[2]!;
    if (type === 0) {
      if (b.length < 5) return true;
      const code = b.readUInt16BE(3);
      this.settle({ kind: 'sslv2-error', text: `SSLv2 ERROR ${SSLV2_ERRORS[code] ?? `code ${code}`}` });
      return true;
    }
    if (type === 4) {
      this.settle({ kind: 'sslv2-error', text: 'SSLv2 SERVER-HELLO: the server answered in SSLv2 only' });
      return true;
    }
    return false; // not SSLv2 either; the record check reports it
  }

  private record(type: number, fragment: Buffer): void {
    switch (type) {
      case CT.alert:
        return this.alert(fragment);
      case CT.handshake:
        this.handshake.push(fragment);
        return this.messages();
      case CT.changeCipherSpec:
      case CT.applicationData:
        // After a TLS <= 1.2 ServerHello this means an abbreviated or odd flight: nothing more comes in the clear.
        if (this.hello) return void this.conclude(false);
        throw new Malformed(`${type === CT.changeCipherSpec ? 'ChangeCipherSpec' : 'application data'} before any ServerHello`, fragment);
    }
  }

  private alert(fragment: Buffer): void {
    if (fragment.length < 2) throw new Malformed(`an alert record of ${fragment.length} bytes`, fragment);
    const info: AlertInfo = { level: fragment[0]!, description: fragment[1]!, name: alertName(fragment[1]!) };
    if (this.hello) {
      this.hello.alertAfterHello = info;
      return void this.conclude(false);
    }
    // A warning (e.g. unrecognized_name) may precede a ServerHello; anything fatal ends it.
    if (info.level === 1 && info.description !== 0) {
      this.warning = info;
      return;
    }
    this.settle({ kind: 'alert', ...info });
  }

  private messages(): void {
    while (!this.result) {
      const m = this.handshake.next();
      if (!m) return;
      this.message(m.type, m.body);
    }
  }

  private message(type: number, body: Buffer): void {
    if (!this.hello) {
      if (type === HS.helloRequest) return; // allowed at any time, meaningless here
      if (type !== HS.serverHello) throw new Malformed(`handshake message type ${type} before any ServerHello`, body);
      this.hello = parseServerHello(body);
      // TLS 1.3: everything after the ServerHello is encrypted; an HRR waits for our second hello.
      if (this.hello.version === 'TLSv1.3') this.conclude(true);
      return;
    }
    const h = this.hello;
    switch (type) {
      case HS.certificate:
        h.certificates = parseCertificates(body);
        return;
      case HS.serverKeyExchange:
        h.serverKeyExchange = parseServerKeyExchange(body, h.cipher);
        return;
      case HS.certificateRequest:
        h.certificateRequested = true;
        return;
      case HS.certificateStatus:
        h.certificateStatus = true;
        return;
      case HS.serverHelloDone:
        return void this.conclude(true);
      case HS.serverHello:
        throw new Malformed('a second ServerHello', body);
      default:
        return; // e.g. NewSessionTicket: not part of what we report
    }
  }

  private conclude(complete: boolean): ServerAnswer {
    const h = this.hello!;
    const has = (t: number) => h.extensions.includes(t);
    return this.settle({
      kind: 'server-hello',
      version: h.version,
      cipher: h.cipher,
      compression: h.compression,
      sessionIdLength: h.sessionIdLength,
      extensions: h.extensions,
      secureRenegotiation: has(EXT.renegotiationInfo),
      extendedMasterSecret: has(EXT.extendedMasterSecret),
      sessionTicket: has(EXT.sessionTicket),
      helloRetryRequest: h.helloRetryRequest,
      selectedGroup: h.selectedGroup,
      certificates: h.certificates,
      serverKeyExchange: h.serverKeyExchange,
      downgradeSentinel: h.downgradeSentinel,
      certificateRequested: h.certificateRequested,
      certificateStatus: h.certificateStatus,
      complete,
      alertAfterHello: h.alertAfterHello,
    });
  }
}

/** The answer as a JSON-safe record (certificates as length + SHA-256), for reports and golden files. */
export function answerToJson(a: FinishedAnswer): unknown {
  if (a.kind !== 'server-hello') return { ...a };
  return {
    ...a,
    certificates: a.certificates?.map((der) => ({ bytes: der.length, sha256: crypto.createHash('sha256').update(der).digest('hex') })) ?? null,
  };
}
