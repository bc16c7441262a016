import { EventEmitter } from 'node:events';
import net from 'node:net';
import type tls from 'node:tls';
import { X509Certificate, createHash } from 'node:crypto';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { LabError } from '../core/errors.js';
import { ServerAnswerReader } from '../enum/server-answer.js';
import { readClientHello } from '../tls/client-hello-reader.js';
import type { LabNodeIdentity, StartStep } from '../engine/lab-container.js';
import { groupName, helloView } from './hello-view.js';
import type { PeerClientCertificate, PeerConnection, PeerMessage, PeerRecord, PeerTls } from './peer-record.js';
import type { SmtpPeerSpec } from './peer-spec.js';
import { SocketTap } from './socket-tap.js';

/** Most of a message the peer reads (headers are what it records; the rest is counted). */
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Most connections kept per peer: a sender in a retry loop cannot grow memory without bound. */
const MAX_CONNECTIONS = 500;

export interface PeerKeyPair {
  readonly cert: string;
  readonly chain: string;
  readonly key: string;
}

/** A connection while it is open; frozen into a PeerConnection when the record is read. */
interface LiveConnection {
  readonly id: string;
  readonly index: number;
  readonly tap: SocketTap;
  readonly remoteAddress: string | null;
  readonly remotePort: number | null;
  greeting: string | null;
  ehlo: string | null;
  tls: Omit<PeerTls, 'group'> | null;
  errors: string[];
  readonly messages: PeerMessage[];
  closed: boolean;
}

/**
 * Builder of a capturing SMTP peer: the smtp-server package on the HOST, listening only on the
 * scenario network's gateway address (the bridge's own address, which only that network's
 * containers reach; they keep no route anywhere else). It records, per connection, what a
 * receiving MTA sees of the lab Postfix that sends to it: EHLO, STARTTLS, the negotiated TLS,
 * the SNI, the client certificate, resumption, each message, and the ClientHello itself
 * (through a SocketTap, see socket-tap.ts).
 *
 * Why the host and not a container: the peer is the lab's own code, so its record is read in
 * the same process that judges it (no serialization, no second Node in an image), and the
 * egress rules are unchanged: it binds the gateway address, never 0.0.0.0.
 */
export class SmtpPeer {
  private bindAddress: string | null = null;
  private pair: PeerKeyPair | null = null;

  constructor(
    private readonly spec: SmtpPeerSpec,
    private readonly node: LabNodeIdentity,
    private readonly scenarioId: string,
  ) {
    if (spec.starttls && !spec.certificate) throw new LabError('ESCENARIO', `scenario ${scenarioId}: node ${node.name}: a peer that offers STARTTLS needs "certificate"`);
    if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) throw new LabError('ESCENARIO', `scenario ${scenarioId}: node ${node.name}: port ${spec.port} is not a TCP port`);
  }

  /** The address to listen on: the scenario network's gateway. */
  withBindAddress(address: string): this {
    if (!net.isIPv4(address)) throw new LabError('EINTERNAL', `peer ${this.node.name}: bind address ${address} is not IPv4`);
    this.bindAddress = address;
    return this;
  }

  withKeyPair(pair: PeerKeyPair): this {
    this.pair = pair;
    return this;
  }

  async start(): Promise<StartedSmtpPeer> {
    if (!this.bindAddress) throw new LabError('EINTERNAL', `peer ${this.node.name}: withBindAddress() is required`);
    if (this.spec.starttls && !this.pair) throw new LabError('EINTERNAL', `peer ${this.node.name}: withKeyPair() is required when STARTTLS is offered`);
    const started = Date.now();
    const peer = new StartedSmtpPeer(this.spec, this.node, this.bindAddress, this.scenarioId, this.pair);
    await peer.listen();
    peer.startSteps = Object.freeze([{ step: 'listening', atMs: Date.now() - started }, { step: 'ready', atMs: Date.now() - started }]);
    return peer;
  }
}

/** A listening capturing peer: its record, waits on it, and stop(). */
export class StartedSmtpPeer {
  private readonly connections: LiveConnection[] = [];
  private readonly byId = new Map<string, LiveConnection>();
  private readonly events = new EventEmitter();
  private readonly listener: net.Server;
  private readonly smtp: SMTPServer;
  private dropped = 0;
  startSteps: readonly StartStep[] = [];

  constructor(
    readonly spec: SmtpPeerSpec,
    readonly node: LabNodeIdentity,
    /** The gateway address it listens on. */
    readonly address: string,
    readonly scenarioId: string,
    pair: PeerKeyPair | null,
  ) {
    this.events.setMaxListeners(0);
    const name = spec.greetingName ?? node.hostnames[0] ?? node.name;
    const record = (session: SMTPServerSession) => this.byId.get(session.id);
    const options: SMTPServerOptions = {
      name,
      banner: 'smtp-tls-lab capturing peer',
      lmtp: spec.protocol === 'lmtp',
      hideSTARTTLS: !spec.starttls,
      authOptional: true,
      disabledCommands: spec.starttls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      size: MAX_MESSAGE_BYTES,
      logger: this.logger(),
      ...(pair
        ? {
            key: pair.key,
            cert: spec.sendChain && pair.chain ? `${pair.cert.trim()}\n${pair.chain.trim()}\n` : pair.cert,
            minVersion: spec.tls.minVersion,
            maxVersion: spec.tls.maxVersion,
            // Security level 0 unless the scenario names its own string: a peer that speaks only
            // TLS 1.0/1.1 must be able to (OpenSSL 3 refuses them at its default level 1).
            ciphers: spec.tls.ciphers ?? 'DEFAULT:@SECLEVEL=0',
            ...(spec.tls.ciphersuites ? { ciphersuites: spec.tls.ciphersuites } : {}),
            ...(spec.tls.groups ? { ecdhCurve: spec.tls.groups } : {}),
            requestCert: spec.tls.requestClientCertificate,
            // Any client certificate is accepted: the peer records it, the scenario judges it.
            rejectUnauthorized: false,
          }
        : {}),
      onSecure: (socket, session, done) => {
        const c = record(session);
        const s = socket as tls.TLSSocket;
        if (c) {
          const cert = spec.tls.requestClientCertificate ? s.getPeerCertificate(false) : null;
          c.tls = {
            protocol: s.getProtocol() ?? null,
            cipher: s.getCipher()?.name ?? null,
            sni: session.servername || null,
            resumed: s.isSessionReused(),
            clientCertificate: cert && cert.raw ? clientCertificate(cert.raw) : null,
          };
          this.events.emit('change');
        }
        done();
      },
      onMailFrom: (_address, session, done) => {
        const c = record(session);
        if (c) {
          c.greeting = session.openingCommand || c.greeting;
          c.ehlo = session.hostNameAppearsAs || c.ehlo;
        }
        done();
      },
      onData: (stream, session, done) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        stream.on('data', (chunk: Buffer) => {
          if (bytes < 64 * 1024) chunks.push(chunk);
          bytes += chunk.length;
        });
        stream.on('end', () => {
          const c = record(session);
          if (c) {
            c.messages.push(message(session, Buffer.concat(chunks).toString('latin1'), bytes, c.tls !== null));
            this.events.emit('change');
          }
          done();
        });
      },
      onClose: (session) => {
        const c = record(session);
        if (c) {
          c.closed = true;
          this.events.emit('change');
        }
      },
    };
    this.smtp = new SMTPServer(options);
    // Errors belong to connections (the logger keeps them there); the server itself never throws them.
    this.smtp.on('error', () => undefined);
    this.listener = net.createServer((socket) => this.accept(socket));
  }

  /** smtp-server logs every connection error with the connection id as its first argument: keep them per connection. */
  private logger(): NonNullable<SMTPServerOptions['logger']> {
    const quiet = () => undefined;
    const error = (_meta: unknown, _format: unknown, id?: unknown, _addr?: unknown, text?: unknown) => {
      const c = typeof id === 'string' ? this.byId.get(id) : undefined;
      if (c && typeof text === 'string') c.errors.push(text);
    };
    return { info: quiet, debug: quiet, trace: quiet, warn: quiet, fatal: quiet, error, child: () => this.logger() } as unknown as NonNullable<SMTPServerOptions['logger']>;
  }

  private accept(socket: net.Socket): void {
    const tap = new SocketTap(socket);
    const id = `c${this.connections.length + this.dropped}`;
    const live: LiveConnection = {
      id,
      index: this.connections.length + this.dropped,
      tap,
      remoteAddress: socket.remoteAddress ?? null,
      remotePort: socket.remotePort ?? null,
      greeting: null,
      ehlo: null,
      tls: null,
      errors: [],
      messages: [],
      closed: false,
    };
    if (this.connections.length >= MAX_CONNECTIONS) {
      this.byId.delete(this.connections.shift()!.id);
      this.dropped++;
    }
    this.connections.push(live);
    this.byId.set(id, live);
    tap.on('close', () => {
      live.closed = true;
      this.events.emit('change');
    });
    this.events.emit('change');
    // smtp-server's public way in for a socket it did not accept itself.
    (this.smtp as unknown as { connect(s: unknown, o: unknown): void }).connect(tap, { id, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, localAddress: socket.localAddress, localPort: socket.localPort });
  }

  /** @internal (SmtpPeer.start) */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(
          new LabError('EPEER', `peer ${this.node.name} of ${this.scenarioId} could not listen on ${this.address}:${this.spec.port}: ${err.code ?? err.message}`, {
            cause: err,
            detail:
              err.code === 'EADDRINUSE'
                ? `remedy: something on this host already listens on port ${this.spec.port} of every address (an MTA on *:${this.spec.port}?); stop it, or give the peer another "port" and route to it`
                : err.code === 'EACCES'
                  ? `remedy: ports below 1024 need root; run the lab as root or give the peer a port above 1023`
                  : 'remedy: check that the lab network still exists',
          }),
        );
      };
      this.listener.once('error', onError);
      this.listener.listen({ host: this.address, port: this.spec.port, exclusive: true }, () => {
        this.listener.off('error', onError);
        resolve();
      });
    });
  }

  get port(): number {
    return this.spec.port;
  }

  /** Present another certificate from the next connection on (a rollover): the TLS context is rebuilt, open sessions keep theirs. */
  presentCertificate(pair: PeerKeyPair): void {
    this.smtp.updateSecureContext({ key: pair.key, cert: this.spec.sendChain && pair.chain ? `${pair.cert.trim()}\n${pair.chain.trim()}\n` : pair.cert });
  }

  /** An immutable snapshot of everything recorded so far. */
  record(): PeerRecord {
    const connections = this.connections.map((c) => freezeConnection(c));
    return Object.freeze({ node: this.node.name, kind: 'capturing' as const, connections: Object.freeze(connections), messages: Object.freeze(connections.flatMap((c) => c.messages)) });
  }

  /** How many connections so far: a marker for waits. */
  get connectionCount(): number {
    return this.connections.length + this.dropped;
  }

  /**
   * Resolves when `done(record)` holds (now or after a later change), rejects with ETIMEOUT
   * naming the wait when `timeoutMs` passes first.
   */
  waitFor(name: string, done: (r: PeerRecord) => boolean, timeoutMs: number): Promise<PeerRecord> {
    const now = this.record();
    if (done(now)) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const onChange = () => {
        const r = this.record();
        if (!done(r)) return;
        clearTimeout(timer);
        this.events.off('change', onChange);
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.events.off('change', onChange);
        reject(new LabError('ETIMEOUT', `timeout '${name}' expired after ${timeoutMs} ms waiting for peer ${this.node.name}`));
      }, timeoutMs);
      this.events.on('change', onChange);
    });
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.tap.destroy();
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
    await new Promise<void>((resolve) => this.smtp.close(() => resolve()));
  }
}

function colonHex(buf: Buffer): string {
  return buf.toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

function clientCertificate(der: Buffer): PeerClientCertificate {
  const x = new X509Certificate(der);
  const spki = x.publicKey.export({ type: 'spki', format: 'der' });
  return Object.freeze({ subject: x.subject.replace(/\n/g, ', '), issuer: x.issuer.replace(/\n/g, ', '), sha256: x.fingerprint256, spkiSha256: colonHex(createHash('sha256').update(spki).digest()) });
}

/** The first Received: header (unfolded) and the Subject of a message's header block. */
function message(session: SMTPServerSession, text: string, bytes: number, overTls: boolean): PeerMessage {
  const head = text.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const header = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(unfolded)?.[1]?.trim() ?? null;
  return Object.freeze({
    mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
    rcptTo: Object.freeze(session.envelope.rcptTo.map((r) => r.address)),
    receivedHeader: header('Received'),
    subject: header('Subject'),
    messageId: header('Message-ID')?.replace(/^<|>$/g, '') ?? null,
    bytes,
    overTls,
  });
}

/** Where TLS records start in a byte stream that began as SMTP text: the first 0x16 0x03 at a line start. */
function tlsStart(bytes: Buffer): number {
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] === 0x16 && bytes[i + 1] === 0x03 && (i === 0 || bytes[i - 1] === 0x0a)) return i;
  }
  return -1;
}

/** The bytes after the client's STARTTLS line, or null when it sent none. */
function afterStartTls(inbound: Buffer): Buffer | null {
  const text = inbound.toString('latin1');
  const m = /(^|\n)STARTTLS\r?\n/i.exec(text);
  return m ? inbound.subarray(m.index + m[0].length) : null;
}

/** The group the peer chose, read from its own ServerHello (TLS 1.3 key_share) or ServerKeyExchange (TLS 1.2). */
function chosenGroup(outbound: Buffer): string | null {
  const start = tlsStart(outbound);
  if (start < 0) return null;
  const reader = new ServerAnswerReader();
  reader.push(outbound.subarray(start));
  const a = reader.answer() ?? reader.finish('closed');
  if (a.kind !== 'server-hello') return null;
  if (a.selectedGroup !== null) return groupName(a.selectedGroup);
  if (a.serverKeyExchange?.kind === 'ecdhe') return groupName(a.serverKeyExchange.group);
  if (a.serverKeyExchange?.kind === 'dhe') return `DHE-${a.serverKeyExchange.primeBits}`;
  return null;
}

function freezeConnection(c: LiveConnection): PeerConnection {
  const inbound = c.tap.inbound;
  const tlsBytes = afterStartTls(inbound);
  const plain = (tlsBytes ? inbound.subarray(0, inbound.length - tlsBytes.length) : inbound).toString('latin1');
  // Before TLS the greeting is in clear; after it, smtp-server's session says (at MAIL FROM).
  const greet = /^(EHLO|HELO|LHLO)[ \t]+(\S+)/im.exec(plain);
  let clientHello: PeerConnection['clientHello'] = null;
  let helloProblem: PeerConnection['helloProblem'] = null;
  if (tlsBytes && tlsBytes.length > 0) {
    const read = readClientHello(tlsBytes);
    if (read.kind === 'hello') clientHello = helloView(read.hello);
    else if (read.kind === 'malformed') helloProblem = Object.freeze({ reason: read.reason, firstBytes: read.firstBytes });
    else if (c.closed) helloProblem = Object.freeze({ reason: `the connection closed after ${read.bytes} byte(s) of an incomplete ClientHello`, firstBytes: tlsBytes.subarray(0, 32).toString('hex') });
  }
  const tlsRecord = c.tls ? Object.freeze({ ...c.tls, group: chosenGroup(c.tap.outbound) }) : null;
  return Object.freeze({
    index: c.index,
    remoteAddress: c.remoteAddress,
    remotePort: c.remotePort,
    greeting: c.greeting ?? greet?.[1]?.toUpperCase() ?? null,
    ehlo: c.ehlo ?? greet?.[2] ?? null,
    starttls: tlsBytes !== null,
    tls: tlsRecord,
    handshakeError: tlsBytes !== null && !c.tls && c.closed ? (c.errors[0] ?? 'the connection closed during the handshake') : null,
    clientHello,
    helloProblem,
    messages: Object.freeze([...c.messages]),
    closed: c.closed,
  });
}
