import type { AnyShape } from '../../../core/shape.js';
import { STACK_NAMES, type StackName } from '../../../core/stacks.js';
import { blindSpot, UNSUPPORTED } from '../../../clients/capabilities.js';
import { OBSERVATION_SHAPE, REQUEST_ECHO_PATHS, type ClientName, type TlsMode } from '../../../tls/observation.js';
import { Found, ScenarioFileError, type Reader } from '../../../scenario/validate.js';
import { parseMatcher, type Matcher } from '../../matchers.js';
import { checkReferences, readExpectations, readLogCounts, readLogEventExpectation, type CheckCommon, type CheckKindSpec, type LogEventExpectation, type SpecContext } from '../spec-common.js';

const VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
const CLIENT_NAMES = ['raw', 'nodemailer', 'openssl', 'gnutls'] as const satisfies readonly ClientName[];
/** The clients that run in the lab client container, so on a stack (raw and nodemailer are the host's Node). */
const CONTAINER_CLIENTS: readonly ClientName[] = ['openssl', 'gnutls'];

export interface ClientTlsSpec {
  readonly minVersion?: (typeof VERSIONS)[number];
  readonly maxVersion?: (typeof VERSIONS)[number];
  readonly ciphers?: string;
  readonly ciphersuites?: string;
  readonly groups?: string;
  readonly securityLevel?: 0 | 1 | 2 | 3;
  readonly servername?: string;
  /** 'lab' trusts the lab CAs; 'system' uses the system roots (which know no lab CA). */
  readonly trust?: 'lab' | 'system';
  readonly verifyName?: string;
  /** Name of a scenario certificate to present as the client certificate. */
  readonly clientCertificate?: string;
  /** A GnuTLS priority string for the gnutls client ("NORMAL:-VERS-ALL:+VERS-TLS1.2"); no other client can honour it. */
  readonly gnutlsPriority?: string;
}

export interface ClientSpec {
  readonly mode?: TlsMode;
  readonly ehloName?: string;
  readonly tls?: ClientTlsSpec;
  readonly forceStarttls?: boolean;
  readonly plaintextProbe?: string;
  readonly injectAfterStarttls?: string;
  readonly renegotiate?: boolean;
  readonly resume?: boolean;
  readonly stopAfter?: 'banner' | 'ehlo' | 'handshake';
  readonly message?: { readonly from: string; readonly to: readonly string[]; readonly subject: string; readonly body: string };
  /** 'valid' uses the password generated for the user this run; 'wrong' a different one. */
  readonly auth?: { readonly user: string; readonly password: 'valid' | 'wrong'; readonly mechanism: 'PLAIN' | 'LOGIN' };
  readonly timeouts?: { readonly connect?: number; readonly banner?: number; readonly reply?: number; readonly handshake?: number };
}

/** Lab clients connect to a Postfix service; their observations, Postfix's log and the delivered message are held to the check. */
export interface ClientHandshakeCheck extends CheckCommon {
  readonly kind: 'client-handshake';
  readonly clients: readonly ClientName[];
  readonly client: ClientSpec;
  /** How the clients reach TLS: the client's mode, or the service's default. */
  readonly mode: TlsMode;
  /** Expectations on every client's TlsObservation, by path (e.g. "tls.protocol"). */
  readonly expect: Readonly<Record<string, Matcher>>;
  /** A Postfix log event of the check's own connection of this type that meets every expectation must exist. */
  readonly serverLog: LogEventExpectation | null;
  /** How many log events of each type the connection produced (e.g. {"tls-dump": 0}). */
  readonly serverLogCounts: Readonly<Record<string, Matcher>> | null;
  /** What Postfix did with the message (needs client.message): its delivery status and Received header. */
  readonly delivered: { readonly status: Matcher; readonly receivedHeader: Matcher | null } | null;
  /**
   * The stack whose lab image the check's container clients (openssl, gnutls) run in, on
   * purpose another one than the server's (bullseye's OpenSSL 1.1.1 s_client against trixie's
   * Postfix); null: the scenario's own stack, the same OpenSSL and GnuTLS as the server's.
   */
  readonly clientStack: StackName | null;
}

function readTls(r: Reader, certNames: readonly string[]): ClientTlsSpec {
  r.object(['minVersion', 'maxVersion', 'ciphers', 'ciphersuites', 'groups', 'securityLevel', 'servername', 'trust', 'verifyName', 'clientCertificate', 'gnutlsPriority']);
  const out: Record<string, unknown> = {};
  if (r.has('minVersion')) out.minVersion = r.field('minVersion').oneOf(VERSIONS);
  if (r.has('maxVersion')) out.maxVersion = r.field('maxVersion').oneOf(VERSIONS);
  if (r.has('gnutlsPriority')) out.gnutlsPriority = r.field('gnutlsPriority').string(/^[A-Za-z0-9%+:._-]+$/, 'a GnuTLS priority string (NORMAL:-VERS-ALL:+VERS-TLS1.2)');
  for (const k of ['ciphers', 'ciphersuites', 'groups', 'servername', 'verifyName'] as const) if (r.has(k)) out[k] = r.field(k).string(/^[A-Za-z0-9_.:@!+\-=]+$/, 'an OpenSSL-style list');
  if (r.has('securityLevel')) out.securityLevel = r.field('securityLevel').number(0, 3);
  if (r.has('trust')) out.trust = r.field('trust').oneOf(['lab', 'system'] as const);
  if (r.has('clientCertificate')) {
    const f = r.field('clientCertificate');
    const name = f.string();
    if (!certNames.includes(name)) f.fail(`the name of a certificate in this scenario (${certNames.join(', ') || 'none defined'})`, 'add it under "certificates"');
    out.clientCertificate = name;
  }
  return out as ClientTlsSpec;
}

const ADDRESS = /^[^<>\s]+@[^<>\s]+$/;

function readClient(r: Reader, ctx: SpecContext): ClientSpec {
  r.object(['mode', 'ehloName', 'tls', 'forceStarttls', 'plaintextProbe', 'injectAfterStarttls', 'renegotiate', 'resume', 'stopAfter', 'message', 'auth', 'timeouts']);
  const out: Record<string, unknown> = {};
  if (r.has('mode')) out.mode = r.field('mode').oneOf(['starttls', 'implicit', 'plain'] as const);
  if (r.has('ehloName')) out.ehloName = r.field('ehloName').string(/^[A-Za-z0-9.-]+$/, 'a host name');
  if (r.has('tls')) out.tls = readTls(r.field('tls'), ctx.certNames);
  for (const k of ['forceStarttls', 'renegotiate', 'resume'] as const) if (r.has(k)) out[k] = r.field(k).boolean();
  for (const k of ['plaintextProbe', 'injectAfterStarttls'] as const) if (r.has(k)) out[k] = r.field(k).string(/^[ -~]+$/, 'one printable SMTP command line');
  if (r.has('stopAfter')) out.stopAfter = r.field('stopAfter').oneOf(['banner', 'ehlo', 'handshake'] as const);
  if (r.has('message')) {
    const m = r.field('message').object(['from', 'to', 'subject', 'body']);
    out.message = {
      from: m.field('from').string(ADDRESS, 'an address'),
      to: m.field('to').list().map((x) => x.string(ADDRESS, 'an address')),
      subject: m.optString('subject') ?? 'smtp-tls-lab test message',
      body: m.optString('body') ?? 'This message was sent by smtp-tls-lab.',
    };
  }
  if (r.has('auth')) {
    const a = r.field('auth').object(['user', 'password', 'mechanism']);
    const user = a.field('user').string(/^[^@\s:]+@[^@\s:]+$/, 'a SASL login user@realm');
    if (!ctx.saslUsers.includes(user)) a.field('user').fail(`a user listed in the scenario's "sasl.users" (${ctx.saslUsers.join(', ') || 'none'})`, 'add the user to sasl.users');
    out.auth = { user, password: a.has('password') ? a.field('password').oneOf(['valid', 'wrong'] as const) : 'valid', mechanism: a.has('mechanism') ? a.field('mechanism').oneOf(['PLAIN', 'LOGIN'] as const) : 'PLAIN' };
  }
  if (r.has('timeouts')) {
    const t = r.field('timeouts').object(['connect', 'banner', 'reply', 'handshake']);
    out.timeouts = Object.fromEntries(['connect', 'banner', 'reply', 'handshake'].filter((k) => t.has(k)).map((k) => [k, t.field(k).number(100, 60_000)]));
  }
  return out as ClientSpec;
}

/** The request options a check asks of its clients, as UNSUPPORTED names them. */
function askedOptions(c: ClientSpec): string[] {
  return [
    ...(c.plaintextProbe ? ['plaintextProbe'] : []),
    ...(c.forceStarttls ? ['forceStarttls'] : []),
    ...(c.injectAfterStarttls ? ['injectAfterStarttls'] : []),
    ...(c.renegotiate ? ['renegotiate'] : []),
    ...(c.resume ? ['resume'] : []),
    ...(c.message ? ['message'] : []),
    ...(c.auth ? ['auth'] : []),
    ...(c.stopAfter ? ['stopAfter', `stopAfter:${c.stopAfter}`] : []),
    ...(c.tls?.gnutlsPriority ? ['tls.gnutlsPriority'] : []),
    ...(['ciphers', 'ciphersuites', 'groups', 'securityLevel'] as const).filter((k) => c.tls?.[k] !== undefined).map((k) => `tls.${k}`),
    ...(c.mode === 'plain' ? ['mode:plain'] : []),
  ];
}

const echoRefusal = (path: string): string | null =>
  REQUEST_ECHO_PATHS.some((p) => path === p || path.startsWith(`${p}.`))
    ? `'${path}' echoes what the client was asked to do, so it cannot fail because of the server; assert on what the server answered (e.g. tls.peerCertificate.commonName for the certificate it chose)`
    : null;

export const clientHandshakeSpec: CheckKindSpec<ClientHandshakeCheck> = {
  kind: 'client-handshake',
  keys: ['clients', 'client', 'expect', 'serverLog', 'serverLogCounts', 'delivered', 'clientStack'],
  inferredFrom: [],
  read(r, common, ctx) {
    const client = r.has('client') ? readClient(r.field('client'), ctx) : {};
    const mode = client.mode ?? ctx.modeOf(common.service);
    const clientsReader = r.has('clients') ? r.field('clients') : null;
    const clients = clientsReader ? clientsReader.list().map((c) => c.oneOf(CLIENT_NAMES)) : (['raw'] as ClientName[]);
    if (clientsReader && clients.length === 0) clientsReader.fail(`at least one client (${CLIENT_NAMES.join(', ')})`);
    const asked = askedOptions(client);
    clients.forEach((c, i) => {
      const cannot = asked.filter((a) => UNSUPPORTED[c].includes(a));
      if (cannot.length) clientsReader!.list()[i]!.fail(`a client that can do ${cannot.join(', ')} (client '${c}' cannot)`, `remove '${c}' from this check's clients, or split the check`);
    });
    let clientStack: StackName | null = null;
    if (r.has('clientStack')) {
      const f = r.field('clientStack');
      const name = f.string(/^.*$/, 'a stack name');
      if (!(STACK_NAMES as readonly string[]).includes(name)) f.fail(`a known stack (${STACK_NAMES.join(', ')}); it names '${name}'`, 'name one of the known stacks, or remove "clientStack" to use the scenario\'s own');
      clientStack = name as StackName;
      const host = clients.filter((c) => !CONTAINER_CLIENTS.includes(c));
      if (host.length) {
        const at = clients.indexOf(host[0]!);
        (clientsReader ? clientsReader.list()[at]! : f).fail(
          `only clients that run in the lab client container (${CONTAINER_CLIENTS.join(', ')}) in a check with "clientStack" (client '${host[0]}' is the host's Node, on no stack)`,
          `remove '${host.join("', '")}' from this check's clients, or split the check`,
        );
      }
    }
    const shape = OBSERVATION_SHAPE as AnyShape;
    const expect = r.has('expect') ? readExpectations(r.field('expect'), common.id, shape, 'client observation', { refuse: echoRefusal }) : {};
    // A field a client cannot see is null in its observation: asking it would fail the server for the client's blindness.
    for (const path of Object.keys(expect)) {
      clients.forEach((c) => {
        const why = blindSpot(c, path, mode);
        if (why) {
          throw new ScenarioFileError(r.file, `${r.path}.expect["${path}"]`, `a path every client of the check can observe`, new Found(`'${path}' in check '${common.id}', which client '${c}' cannot observe in ${mode} mode (${why})`), `remove '${c}' from this check's clients, or split the check`);
        }
      });
    }
    const serverLog = r.has('serverLog') ? readLogEventExpectation(r.field('serverLog'), common.id, shape) : null;
    const serverLogCounts = r.has('serverLogCounts') ? readLogCounts(r.field('serverLogCounts')) : null;
    let delivered: ClientHandshakeCheck['delivered'] = null;
    if (r.has('delivered')) {
      const d = r.field('delivered').object(['status', 'receivedHeader']);
      if (!client.message) d.fail('a check whose client sends a message', 'add client.message, or remove "delivered"');
      const status = d.has('status') ? parseMatcher(d.field('status')) : 'sent';
      const receivedHeader = d.has('receivedHeader') ? parseMatcher(d.field('receivedHeader')) : null;
      if (receivedHeader !== null) checkReferences(d.field('receivedHeader'), common.id, receivedHeader, shape);
      delivered = { status, receivedHeader };
    }
    if (Object.keys(expect).length === 0 && !serverLog && !serverLogCounts && !delivered) {
      r.fail('a check with at least one expectation (expect, serverLog, serverLogCounts or delivered)', 'a check that expects nothing can never fail; say what the server must do');
    }
    return { ...common, kind: 'client-handshake', clients, client, mode, expect, serverLog, serverLogCounts, delivered, clientStack };
  },
};
