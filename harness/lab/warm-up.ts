import net from 'node:net';
import { deepFreeze } from '../core/freeze.js';
import { withTimeout } from '../core/timeouts.js';
import type { MainCfItem } from '../postfix/main-cf.js';
import { isWrapperMode, listeningPorts, type MasterCfEntry } from '../postfix/master-cf.js';
import type { PostfixLogEvent } from '../postfix/log-parser.js';
import type { StartedPostfixContainer } from '../postfix/postfix-container.js';

/**
 * The warm-up: one plain TCP connection to each smtpd inet service right after Postfix is
 * ready. Some of Postfix's warnings are logged only when an smtpd process starts, which
 * happens at the first connection to its service (`warning: Invalid TLS protocol list
 * ">=TLSv1.4": disabling TLS support`). Connecting once to each service, and waiting until
 * Postfix logged that connection's end, puts every such warning in the log before the first
 * check runs, where the start-up log (session.startupEvents()) shows it.
 *
 * No TLS is spoken: a STARTTLS service gets its banner read and a QUIT; a wrapper-mode service
 * (465) is connected until smtpd logged the connection (its process, TLS side included, is up
 * by then), then closed. Every wait is on the socket or the awaitable Postfix log, named and
 * bounded; the connections run side by side.
 */

/** The most the whole warm-up may take; a service that stalls (a `sleep` restriction) costs at most this. */
export const WARM_UP_BOUND_MS = 5_000;

export interface WarmUpService {
  readonly service: string;
  readonly port: number;
  /** smtpd_tls_wrappermode=yes: TLS from the first byte, so no banner in the clear. */
  readonly wrapper: boolean;
}

export interface WarmUpConnection extends WarmUpService {
  /** The harness's side of the connection, as Postfix logs the client. */
  readonly localAddress: string | null;
  readonly localPort: number | null;
  /** The smtpd process that took it. */
  readonly smtpdPid: number | null;
  /** The banner's last line (STARTTLS services), or null. */
  readonly greeting: string | null;
  /** What Postfix logged at the end: 'disconnect', or 'fatal' when smtpd died; null when nothing within the bound. */
  readonly ended: 'disconnect' | 'fatal' | null;
  /** The wait that did not finish, or the socket error; null when the warm-up of this service went as planned. */
  readonly problem: string | null;
  readonly ms: number;
}

export interface WarmUpReport {
  /** Wall time of the whole warm-up (the connections run side by side). */
  readonly ms: number;
  readonly connections: readonly WarmUpConnection[];
}

/** The inet services run by smtpd (not postscreen or others), with whether each is wrapper-mode. */
export function smtpdInetServices(master: readonly MasterCfEntry[], main: readonly MainCfItem[]): WarmUpService[] {
  const out: WarmUpService[] = [];
  for (const entry of master) {
    if (entry.type !== 'inet' || entry.fields[7] !== 'smtpd') continue;
    const [listening] = listeningPorts([entry]);
    if (!listening) continue;
    out.push({ ...listening, wrapper: isWrapperMode(entry, main) });
  }
  return out;
}

/** Connects to each service once, side by side, and waits until Postfix logged each connection's end. */
export async function warmUp(postfix: StartedPostfixContainer, services: readonly WarmUpService[], boundMs: number = WARM_UP_BOUND_MS): Promise<WarmUpReport> {
  const started = Date.now();
  const deadline = started + boundMs;
  const connections = await Promise.all(services.map((s) => warmOne(postfix, s, deadline)));
  return deepFreeze({ ms: Date.now() - started, connections });
}

async function warmOne(postfix: StartedPostfixContainer, svc: WarmUpService, deadline: number): Promise<WarmUpConnection> {
  const started = Date.now();
  const left = () => Math.max(1, deadline - Date.now());
  const what = `warm-up ${svc.service}/${svc.port}`;
  const socket = new net.Socket();
  let socketError: Error | null = null;
  socket.on('error', (err) => (socketError ??= err));
  const result: { -readonly [K in keyof WarmUpConnection]: WarmUpConnection[K] } = {
    ...svc,
    localAddress: null,
    localPort: null,
    smtpdPid: null,
    greeting: null,
    ended: null,
    problem: null,
    ms: 0,
  };
  // Only lines logged after this point can be this connection's (with its address and port).
  const earlier = new Set(postfix.log.all());
  const after = (match: (e: PostfixLogEvent) => boolean) => (e: PostfixLogEvent) => !earlier.has(e) && match(e);
  try {
    await withTimeout(`${what}: tcp connect`, left(), new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
      socket.connect({ host: postfix.address, port: svc.port });
    }));
    const local = { addr: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    result.localAddress = local.addr;
    result.localPort = local.port;
    const ours = (e: PostfixLogEvent) => 'peer' in e && e.peer.addr === local.addr && e.peer.port === local.port;
    const connected = await postfix.log.waitFor(`${what}: smtpd logs 'connect from [${local.addr}]:${local.port}'`, after((e) => e.type === 'connect' && ours(e)), left());
    result.smtpdPid = connected.pid;
    if (!svc.wrapper) {
      result.greeting = await readGreeting(socket, `${what}: the 220 greeting`, left());
      socket.write('QUIT\r\n');
    }
    socket.end();
    const end = await postfix.log.waitFor(
      `${what}: smtpd logs 'disconnect from [${local.addr}]:${local.port}'`,
      after((e) => (e.type === 'disconnect' && ours(e)) || (e.type === 'fatal' && connected.pid !== null && e.pid === connected.pid)),
      left(),
    );
    result.ended = end.type === 'fatal' ? 'fatal' : 'disconnect';
  } catch (err) {
    result.problem = (err as Error).message;
  } finally {
    socket.destroy();
  }
  if (socketError && !result.problem && result.ended === null) result.problem = `${what}: ${(socketError as Error).message}`;
  result.ms = Date.now() - started;
  return result;
}

/** Reads until the last line of the greeting ("NNN text"); resolves with it. */
function readGreeting(socket: net.Socket, name: string, timeoutMs: number): Promise<string> {
  let buffer = '';
  let onData!: (chunk: Buffer) => void;
  let onClose!: () => void;
  const reading = new Promise<string>((resolve, reject) => {
    onData = (chunk) => {
      buffer += chunk.toString('latin1');
      const last = buffer.split('\r\n').find((l) => /^\d{3}(?: |$)/.test(l));
      if (last !== undefined) resolve(last);
      else if (buffer.length > 64 * 1024) reject(new Error(`${name}: more than 64 KiB without a final reply line`));
    };
    onClose = () => reject(new Error(`${name}: the server closed the connection before its greeting`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
  return withTimeout(name, timeoutMs, reading).finally(() => {
    socket.off('data', onData);
    socket.off('close', onClose);
  });
}
