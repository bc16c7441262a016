import dns from 'node:dns/promises';
import net from 'node:net';
import { LabError } from '../core/errors.js';
import { withTimeout } from '../core/timeouts.js';
import type { ProbeScope } from './probe-result.js';
import { DEFAULT_PROBE_TIMEOUTS, type ProbeTarget, type ProbeTimeouts } from './starttls-transport.js';

/** What a caller of probe() may set, its defaults, and the checks made before any connection. */

export interface ProbeOptions {
  /** Connections at once (default 8). Halved on every throttle signal, grown back on success. */
  readonly concurrency?: number;
  readonly timeouts?: Partial<ProbeTimeouts>;
  readonly ehloName?: string;
  /** SNI for hand-built hellos and node:tls handshakes (default: none; lab targets are IP addresses). */
  readonly sni?: string;
  /** 'enumeration': protocols, suites, order, groups, DHE size only (no complete handshakes). Default 'full'. */
  readonly scope?: ProbeScope;
  /** Retries per attempt after a transient failure (default 6). */
  readonly maxRetries?: number;
  /** Bound on the whole probe (default 180 s). When it expires, what is still running fails with ETIMEOUT; what was found is kept. */
  readonly deadlineMs?: number;
}

export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_EHLO_NAME = 'probe.lab.test';
export const DEFAULT_MAX_RETRIES = 6;
export const DEFAULT_DEADLINE_MS = 180_000;

/** Every option with its value in force. */
export interface ResolvedProbeOptions {
  readonly concurrency: number;
  readonly timeouts: ProbeTimeouts;
  readonly ehloName: string;
  readonly sni: string | undefined;
  readonly scope: ProbeScope;
  readonly maxRetries: number;
  readonly deadlineMs: number;
}

/** Refuses a bad target or option with EUSAGE before anything goes on the wire. */
export function validateProbeRequest(target: ProbeTarget, opts: ProbeOptions): void {
  const bad = (m: string) => {
    throw new LabError('EUSAGE', `probe: ${m}`);
  };
  if (typeof target.host !== 'string' || target.host.length === 0 || target.host.length > 253) bad('host must be a non-empty host name or address');
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) bad(`port must be 1..65535, not ${target.port}`);
  if (!['starttls', 'implicit', 'plain'].includes(target.mode)) bad(`mode must be starttls, implicit or plain, not ${String(target.mode)}`);
  const c = opts.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(c) || c < 1 || c > 64) bad(`concurrency must be 1..64, not ${c}`);
  for (const [k, v] of Object.entries(opts.timeouts ?? {})) if (!Number.isInteger(v) || v < 1) bad(`timeout ${k} must be a positive number of milliseconds, not ${String(v)}`);
  // The EHLO name goes on the wire after "EHLO ": nothing but a host name or an address literal (no CR/LF, no spaces).
  if (opts.ehloName !== undefined && !/^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]{2,45}\]$/.test(opts.ehloName)) bad(`ehloName must be a host name or [address], not ${JSON.stringify(opts.ehloName)}`);
  if (opts.sni !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(opts.sni)) bad(`sni must be an ASCII host name, not ${JSON.stringify(opts.sni)}`);
  if (opts.maxRetries !== undefined && (!Number.isInteger(opts.maxRetries) || opts.maxRetries < 0 || opts.maxRetries > 20)) bad(`maxRetries must be 0..20, not ${opts.maxRetries}`);
  if (opts.deadlineMs !== undefined && (!Number.isInteger(opts.deadlineMs) || opts.deadlineMs < 1)) bad(`deadlineMs must be a positive number of milliseconds, not ${opts.deadlineMs}`);
  if (opts.scope !== undefined && opts.scope !== 'full' && opts.scope !== 'enumeration') bad(`scope must be full or enumeration, not ${String(opts.scope)}`);
}

export function resolveProbeOptions(opts: ProbeOptions): ResolvedProbeOptions {
  return {
    concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
    timeouts: { ...DEFAULT_PROBE_TIMEOUTS, ...opts.timeouts },
    ehloName: opts.ehloName ?? DEFAULT_EHLO_NAME,
    sni: opts.sni,
    scope: opts.scope ?? 'full',
    maxRetries: opts.maxRetries ?? DEFAULT_MAX_RETRIES,
    deadlineMs: opts.deadlineMs ?? DEFAULT_DEADLINE_MS,
  };
}

/** The host as an address: resolved once (the OS resolver), never looked up again, no MX or other DNS. */
export async function resolveOnce(host: string, ms: number): Promise<string> {
  if (net.isIP(host)) return host;
  const h = host.replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(h)) return h;
  try {
    const r = await withTimeout('probe resolve host', ms, dns.lookup(host), { stage: 'tcp' });
    return r.address;
  } catch (e) {
    if (e instanceof LabError) throw e;
    throw new LabError('ECONNECTION', `cannot resolve ${host}: ${(e as Error).message}`, { stage: 'tcp' });
  }
}
