import fs from 'node:fs';
import { asLabError, LabError } from '../core/errors.js';
import { forTerminal } from '../core/escape.js';
import { DEFAULT_CONCURRENCY, probe, type ProbeOptions } from './probe.js';
import { PROBE_SCHEMA, type ProbeScope } from './probe-result.js';
import { renderProbe } from './render-probe.js';
import type { ProbeMode, ProbeTimeouts } from './starttls-transport.js';

/**
 * `smtp-tls-lab probe HOST:PORT [--starttls|--implicit|--plain] [--json FILE] [--concurrency N]
 * [--timeout MS] [--scope full|enumeration] [--ehlo NAME] [--sni NAME] [--help]`.
 *
 * Probes only the endpoint named: no MX lookup, no DNS beyond resolving HOST once.
 * Exit 0 when the probe determined every feature (whatever it found), 2 when it could not probe
 * at all (usage, nothing listening, not SMTP, no STARTTLS, not TLS, timeouts) or when a feature
 * failed: the report and the JSON are still written, with that feature's error.
 */

export const PROBE_USAGE = [
  'usage: smtp-tls-lab probe HOST[:PORT] [flags]',
  '',
  'Enumerate the TLS surface of one SMTP endpoint: protocol versions, suites per version with',
  'the server\'s order, key exchange groups, DHE size, certificate, renegotiation, compression,',
  'resumption, extended master secret, fallback SCSV, and the STARTTLS dialogue.',
  '',
  '  --starttls            SMTP with STARTTLS (default, except port 465)',
  '  --implicit            SMTP inside TLS from the first byte (default for port 465)',
  '  --plain               TLS from the first byte, no SMTP at all',
  `  --json FILE           also write the result as JSON (schema ${PROBE_SCHEMA}); - for stdout only`,
  `  --concurrency N       connections at once (default ${DEFAULT_CONCURRENCY}; halved automatically when the server pushes back)`,
  '  --timeout MS          bound on each wait: connect, banner, each reply, each server answer, each handshake',
  '  --scope S             full (default) or enumeration (protocols, suites, order, groups only)',
  '  --ehlo NAME           EHLO name (default probe.lab.test)',
  '  --sni NAME            server name to send (default none)',
  '  --help                this text',
  '',
  'Exit codes: 0 the probe found everything; 2 it could not probe at all (usage, connection, not SMTP, no STARTTLS,',
  'not TLS, timeout), or some feature could not be determined (the report and JSON still hold every other finding,',
  'and say which feature failed and why).',
].join('\n');

export interface ProbeCommandIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const defaultIo: ProbeCommandIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

interface ParsedProbeArgs {
  readonly help: boolean;
  readonly host: string;
  readonly port: number;
  readonly mode: ProbeMode;
  readonly json: string | null;
  readonly options: ProbeOptions;
}

function usageError(message: string): never {
  throw new LabError('EUSAGE', `probe: ${message} (see: smtp-tls-lab probe --help)`);
}

function wholeNumber(v: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) usageError(`--${flag} must be a whole number from ${min} to ${max}, not '${v}'`);
  return Number(v);
}

function parseHostPort(arg: string): { host: string; port: number | null } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(arg);
  if (v6) return { host: v6[1]!, port: v6[2] ? wholeNumber(v6[2], 'port', 1, 65535) : null };
  const parts = arg.split(':');
  if (parts.length === 1) return { host: arg, port: null };
  if (parts.length === 2 && parts[0]) return { host: parts[0], port: wholeNumber(parts[1]!, 'port', 1, 65535) };
  return usageError(`'${arg}' is not HOST:PORT (write IPv6 addresses as [ADDR]:PORT)`);
}

export function parseProbeArgs(argv: readonly string[]): ParsedProbeArgs {
  const VALUE_FLAGS = new Set(['json', 'concurrency', 'timeout', 'scope', 'ehlo', 'sni']);
  const BOOL_FLAGS = new Set(['starttls', 'implicit', 'plain', 'help']);
  const values: Record<string, string> = {};
  const bools = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    if (BOOL_FLAGS.has(name)) {
      if (eq >= 0) usageError(`--${name} takes no value`);
      bools.add(name);
      continue;
    }
    if (!VALUE_FLAGS.has(name)) usageError(`unknown argument '${arg}'`);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') usageError(`--${name} needs a value`);
    if (name in values) usageError(`--${name} given twice`);
    values[name] = value;
  }
  if (bools.has('help')) return { help: true, host: '', port: 0, mode: 'starttls', json: null, options: {} };
  if (positional.length === 0) usageError('name the endpoint: HOST[:PORT]');
  if (positional.length > 1) usageError(`one endpoint only, got ${positional.map((p) => `'${p}'`).join(' ')}`);
  const modes = (['starttls', 'implicit', 'plain'] as const).filter((m) => bools.has(m));
  if (modes.length > 1) usageError(`choose one of --starttls, --implicit, --plain (got ${modes.map((m) => `--${m}`).join(' ')})`);
  const { host, port: given } = parseHostPort(positional[0]!);
  const port = given ?? (modes[0] === 'implicit' ? 465 : 25);
  const mode: ProbeMode = modes[0] ?? (port === 465 ? 'implicit' : 'starttls');
  const scope = values.scope;
  if (scope !== undefined && scope !== 'full' && scope !== 'enumeration') usageError(`--scope must be full or enumeration, not '${scope}'`);
  let timeouts: Partial<ProbeTimeouts> | undefined;
  if (values.timeout !== undefined) {
    const ms = wholeNumber(values.timeout, 'timeout', 1, 600_000);
    timeouts = { connect: ms, banner: ms, reply: ms, serverAnswer: ms, handshake: ms };
  }
  const options: ProbeOptions = {
    ...(values.concurrency !== undefined ? { concurrency: wholeNumber(values.concurrency, 'concurrency', 1, 64) } : {}),
    ...(timeouts ? { timeouts } : {}),
    ...(scope ? { scope: scope as ProbeScope } : {}),
    ...(values.ehlo !== undefined ? { ehloName: values.ehlo } : {}),
    ...(values.sni !== undefined ? { sni: values.sni } : {}),
  };
  if (values.ehlo !== undefined && !/^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$/.test(values.ehlo)) usageError(`--ehlo must be a host name or [address], not '${values.ehlo}'`);
  if (values.sni !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(values.sni)) usageError(`--sni must be an ASCII host name, not '${values.sni}'`);
  return { help: false, host, port, mode, json: values.json ?? null, options };
}

export async function runProbeCommand(argv: string[], io: ProbeCommandIo = defaultIo): Promise<number> {
  let args: ParsedProbeArgs;
  try {
    args = parseProbeArgs(argv);
  } catch (e) {
    io.err(forTerminal(asLabError(e).message, 1000));
    return 2;
  }
  if (args.help) {
    io.out(PROBE_USAGE);
    return 0;
  }
  try {
    const result = await probe({ host: args.host, port: args.port, mode: args.mode }, args.options);
    const json = `${JSON.stringify(result, null, 2)}\n`;
    const exit = result.complete ? 0 : 2;
    if (args.json === '-') {
      io.out(json.trimEnd());
      return exit;
    }
    for (const line of renderProbe(result)) io.out(line);
    if (args.json) {
      try {
        fs.writeFileSync(args.json, json);
      } catch (e) {
        io.err(`probe: could not write ${forTerminal(args.json)}: ${forTerminal((e as Error).message)}`);
        return 2;
      }
      io.out(`json: ${forTerminal(args.json)}`);
    }
    if (!result.complete) io.err('probe: some features could not be determined (see "Not determined" above); exit 2');
    return exit;
  } catch (e) {
    const err = asLabError(e);
    const stage = err.stage ? ` at ${err.stage}` : '';
    io.err(`probe: ${err.code}${stage}: ${forTerminal(err.message, 1000)}`);
    if (err.detail) io.err(`  detail: ${forTerminal(err.detail, 500)}`);
    return 2;
  }
}
