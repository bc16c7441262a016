import { EXT, HANDSHAKE_TYPE, CONTENT_TYPE } from './codes.js';
import { Cursor, HandshakeReassembler, Malformed, MAX_RECORD_BYTES, RecordReader, u16List } from './record-layer.js';

/**
 * Reads the ClientHello a client sent: what it OFFERED (versions, suites in its order, groups,
 * key shares, signature schemes, SNI, ALPN, the extension list in order). Beside the
 * ClientHello builder (enum/client-hello.ts), for the lab's own server side (the outbound
 * peer watching what Postfix's smtp(8) offers) and for tests of any client.
 *
 * Bytes are fed as they arrive; a hello may span reads and records (a post-quantum hello is
 * 1.4–1.8 kB, and some clients split it into several records). Nothing here throws at the caller:
 * malformed input is a 'malformed' result with its reason, bytes that are not a complete
 * hello yet are 'incomplete'. Memory is bounded by MAX_HELLO_BYTES.
 */

/** A ClientHello body past this is not one the lab will read (real ones stay under 4 kB; the field allows 16 MB). */
export const MAX_HELLO_BYTES = 64 * 1024;

export interface KeyShareOffer {
  readonly group: number;
  /** Length of the key_exchange bytes (32 for X25519, 1216 for X25519MLKEM768 …). */
  readonly keyBytes: number;
}

export interface OfferedHello {
  /** Version of the first record (0x0301 from most clients, whatever they offer). */
  readonly recordVersion: number;
  /** legacy_version in the hello (0x0303 from a TLS 1.3 client). */
  readonly legacyVersion: number;
  readonly sessionIdBytes: number;
  /** Cipher suite codes in the client's order, SCSVs and GREASE included. */
  readonly cipherSuites: readonly number[];
  readonly compressionMethods: readonly number[];
  /** Extension types in the order sent. Null when the hello has no extension block at all (SSLv3 style). */
  readonly extensions: readonly number[] | null;
  /** supported_versions (client form), newest first as sent; null when the extension is absent. */
  readonly supportedVersions: readonly number[] | null;
  readonly supportedGroups: readonly number[] | null;
  /** key_share entries in order; null when absent, [] when present and empty (the server is asked to pick). */
  readonly keyShares: readonly KeyShareOffer[] | null;
  readonly keyShareGroups: readonly number[] | null;
  readonly signatureAlgorithms: readonly number[] | null;
  /** The host_name in server_name; null when the extension is absent. */
  readonly serverName: string | null;
  /** ALPN protocol names in order; null when absent. */
  readonly alpn: readonly string[] | null;
  /** Records the hello was carried in, and the bytes they took (headers included). */
  readonly records: number;
  readonly bytes: number;
}

export type ClientHelloRead =
  | { readonly kind: 'hello'; readonly hello: OfferedHello }
  /** Not all of it has arrived yet (bytes so far). */
  | { readonly kind: 'incomplete'; readonly bytes: number }
  /** Not a ClientHello the lab can read: why, and the first bytes where it went wrong (hex). */
  | { readonly kind: 'malformed'; readonly reason: string; readonly firstBytes: string };

export class ClientHelloReader {
  private readonly records = new RecordReader(MAX_RECORD_BYTES);
  private readonly messages = new HandshakeReassembler(MAX_HELLO_BYTES);
  private total = 0;
  private recordCount = 0;
  private recordVersion: number | null = null;
  private result: ClientHelloRead | null = null;

  /** Feed the next bytes the client sent; returns what is known so far. Bytes after a finished result are ignored. */
  push(chunk: Buffer): ClientHelloRead {
    if (this.result) return this.result;
    this.total += chunk.length;
    this.records.push(chunk);
    try {
      this.read();
    } catch (err) {
      if (!(err instanceof Malformed)) throw err;
      this.malformed(err.message, err.at);
    }
    return this.state();
  }

  state(): ClientHelloRead {
    return this.result ?? { kind: 'incomplete', bytes: this.total };
  }

  /** Bytes received after the ClientHello's last record (e.g. a ChangeCipherSpec or early data), once the hello is read. */
  get rest(): Buffer {
    return this.result?.kind === 'hello' ? this.records.pending : Buffer.alloc(0);
  }

  private read(): void {
    while (!this.result) {
      const start = this.records.pending;
      if (this.recordCount === 0 && start.length >= 3 && (start[0]! & 0x80) !== 0 && start[2] === 1) {
        return this.malformed('an SSLv2-compatible ClientHello (2-byte header): the lab reads only TLS records', start);
      }
      const step = this.records.next();
      switch (step.kind) {
        case 'need-more':
          return;
        case 'not-a-record':
          return this.malformed(`not a TLS record header at byte ${step.offset}`, step.header);
        case 'too-long':
          return this.malformed(`a TLS record of ${step.length} bytes (at most ${MAX_RECORD_BYTES} allowed)`, step.header);
        case 'record': {
          const r = step.record;
          this.recordCount++;
          this.recordVersion ??= r.version;
          if (r.type !== CONTENT_TYPE.handshake) throw new Malformed(`a record of content type ${r.type} before the ClientHello was complete`, r.fragment);
          if (r.fragment.length === 0) throw new Malformed('an empty handshake record', r.fragment);
          this.messages.push(r.fragment);
          const m = this.messages.next();
          if (!m) continue;
          if (m.type !== HANDSHAKE_TYPE.clientHello) throw new Malformed(`handshake message type ${m.type} where a ClientHello (1) belongs`, m.body);
          if (this.messages.pendingBytes > 0) throw new Malformed(`${this.messages.pendingBytes} bytes of another handshake message in the ClientHello's record`, r.fragment);
          const hello = parseClientHelloBody(m.body, { recordVersion: this.recordVersion, records: this.recordCount, bytes: this.records.offset });
          this.result = Object.freeze({ kind: 'hello', hello });
          return;
        }
      }
    }
  }

  private malformed(reason: string, at: Buffer): void {
    this.result = Object.freeze({ kind: 'malformed', reason, firstBytes: at.subarray(0, 32).toString('hex') });
  }
}

/** The whole hello at once: bytes as one buffer or as the reads they arrived in. */
export function readClientHello(bytes: Buffer | readonly Buffer[]): ClientHelloRead {
  const reader = new ClientHelloReader();
  for (const chunk of Buffer.isBuffer(bytes) ? [bytes] : bytes) {
    const r = reader.push(chunk);
    if (r.kind !== 'incomplete') return r;
  }
  return reader.state();
}

function freezeHello(h: OfferedHello): OfferedHello {
  for (const v of Object.values(h)) if (Array.isArray(v)) Object.freeze(v);
  if (h.keyShares) h.keyShares.forEach((k) => Object.freeze(k));
  return Object.freeze(h);
}

/** ClientHello body (RFC 8446 4.1.2; RFC 5246 7.4.1.2): every vector bounds-checked, every extension read to its end. */
function parseClientHelloBody(body: Buffer, frame: { recordVersion: number; records: number; bytes: number }): OfferedHello {
  const c = new Cursor(body, 'ClientHello');
  const legacyVersion = c.u16();
  c.bytes(32); // random
  const sessionId = c.vec8();
  if (sessionId.length > 32) throw new Malformed(`ClientHello: session id of ${sessionId.length} bytes (at most 32)`, body);
  const cipherSuites = u16List(c.vec16(), 'cipher_suites');
  if (cipherSuites.length === 0) throw new Malformed('ClientHello: no cipher suites', body);
  const compressionMethods = [...c.vec8()];
  if (compressionMethods.length === 0) throw new Malformed('ClientHello: no compression methods', body);

  const hello: { -readonly [K in keyof OfferedHello]: OfferedHello[K] } = {
    recordVersion: frame.recordVersion,
    legacyVersion,
    sessionIdBytes: sessionId.length,
    cipherSuites,
    compressionMethods,
    extensions: null,
    supportedVersions: null,
    supportedGroups: null,
    keyShares: null,
    keyShareGroups: null,
    signatureAlgorithms: null,
    serverName: null,
    alpn: null,
    records: frame.records,
    bytes: frame.bytes,
  };
  if (c.left === 0) return freezeHello(hello);

  const block = new Cursor(c.vec16(), 'ClientHello extensions');
  c.end();
  const types: number[] = [];
  while (block.left > 0) {
    const type = block.u16();
    const data = block.vec16();
    // RFC 8446 4.2: at most one of each type; a second would make "what was offered" ambiguous.
    if (types.includes(type)) throw new Malformed(`extension ${type} appears twice`, data);
    types.push(type);
    readExtension(hello, type, data);
  }
  hello.extensions = types;
  return freezeHello(hello);
}

function readExtension(hello: { -readonly [K in keyof OfferedHello]: OfferedHello[K] }, type: number, data: Buffer): void {
  switch (type) {
    case EXT.serverName: {
      // ServerNameList: vector of { name_type, HostName }. An empty body is allowed only from a server.
      const c = new Cursor(data, 'server_name');
      const list = new Cursor(c.vec16(), 'server_name list');
      c.end();
      while (list.left > 0) {
        const nameType = list.u8();
        const name = list.vec16();
        if (nameType === 0 && hello.serverName === null) hello.serverName = name.toString('latin1');
      }
      if (hello.serverName === null) throw new Malformed('server_name without a host_name', data);
      return;
    }
    case EXT.supportedGroups: {
      const c = new Cursor(data, 'supported_groups');
      hello.supportedGroups = u16List(c.vec16(), 'supported_groups');
      return c.end();
    }
    case EXT.signatureAlgorithms: {
      const c = new Cursor(data, 'signature_algorithms');
      hello.signatureAlgorithms = u16List(c.vec16(), 'signature_algorithms');
      return c.end();
    }
    case EXT.supportedVersions: {
      const c = new Cursor(data, 'supported_versions');
      hello.supportedVersions = u16List(c.vec8(), 'supported_versions');
      return c.end();
    }
    case EXT.keyShare: {
      const c = new Cursor(data, 'key_share');
      const list = new Cursor(c.vec16(), 'key_share client_shares');
      c.end();
      const shares: KeyShareOffer[] = [];
      while (list.left > 0) {
        const group = list.u16();
        const key = list.vec16();
        if (key.length === 0) throw new Malformed(`key_share for group ${group} with an empty key`, data);
        shares.push({ group, keyBytes: key.length });
      }
      hello.keyShares = shares;
      hello.keyShareGroups = shares.map((s) => s.group);
      return;
    }
    case EXT.alpn: {
      const c = new Cursor(data, 'application_layer_protocol_negotiation');
      const list = new Cursor(c.vec16(), 'ALPN protocol_name_list');
      c.end();
      const names: string[] = [];
      while (list.left > 0) {
        const name = list.vec8();
        if (name.length === 0) throw new Malformed('an empty ALPN protocol name', data);
        names.push(name.toString('latin1'));
      }
      hello.alpn = names;
      return;
    }
    default:
      return; // offered, listed in `extensions`, not read further
  }
}
