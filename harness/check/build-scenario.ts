import path from 'node:path';
import { readCheck } from '../checks/kinds/specs.js';
import { effectiveConfig } from '../postfix/effective-config.js';
import { parseMasterCf, serviceTlsMode } from '../postfix/master-cf.js';
import { Reader } from '../scenario/validate.js';
import { DEFAULT_NODES, type CheckSpec, type Scenario } from '../scenario/types.js';
import { overlayLines, type OverlaidConfig } from './overlay.js';
import { checkedServices, type CheckedService } from './services.js';

/**
 * The per-port expectations check adds to the profile's rules, as checks of the existing
 * client-handshake kind (the raw client), one table row per expectation: which services it
 * applies to and the check as scenario.json would hold it. A row is data; the loader's own
 * validation reads it, so a mistake here fails like a mistake in a scenario file.
 */
interface PortExpectation {
  readonly id: string;
  readonly applies: (s: CheckedService) => boolean;
  readonly check: (s: CheckedService) => Record<string, unknown>;
}

const PLAINTEXT_MAIL = 'MAIL FROM:<check@lab.test>';

export const PORT_EXPECTATIONS: readonly PortExpectation[] = [
  {
    id: 'starttls-offered',
    applies: (s) => s.mode === 'starttls',
    check: (s) => ({
      title: `STARTTLS is advertised on ${s.port} (${s.service})`,
      why: 'a server that does not offer STARTTLS leaves every client in plaintext',
      client: { stopAfter: 'ehlo' },
      expect: { error: null, 'capabilities.beforeTls': { includes: 'STARTTLS' } },
    }),
  },
  {
    id: 'tls-handshake',
    applies: () => true,
    check: (s) => ({
      title: `A TLS handshake completes on ${s.port} (${s.service}, ${s.mode === 'implicit' ? 'wrapper mode' : 'STARTTLS'})`,
      why: 'the lab client (node:tls, its defaults) must get a TLS session at all',
      client: { stopAfter: 'handshake' },
      expect: { error: null, 'tls.protocol': { exists: true } },
    }),
  },
  {
    id: 'tls-opportunistic',
    applies: (s) => s.role === 'relay' && s.mode === 'starttls',
    check: (s) => ({
      title: `TLS is opportunistic on ${s.port}: mail in plaintext is still accepted (RFC 3207: a public MX must not require TLS)`,
      why: 'a relay MX that requires TLS refuses every sender without STARTTLS; smtpd_tls_security_level = may',
      client: { stopAfter: 'ehlo', plaintextProbe: PLAINTEXT_MAIL },
      expect: { 'probe.reply.code': 250 },
    }),
  },
  {
    id: 'auth-only-after-tls',
    applies: (s) => s.role === 'submission' && s.mode === 'starttls',
    check: (s) => ({
      title: `AUTH is not advertised before STARTTLS on ${s.port} (${s.service})`,
      why: 'a password sent before TLS crosses the wire in clear; smtpd_tls_auth_only = yes (or security level encrypt)',
      client: { stopAfter: 'ehlo' },
      expect: { error: null, 'capabilities.beforeTls': { noneMatches: '^AUTH' }, 'capabilities.beforeTls.length': { atLeast: 1 } },
    }),
  },
  {
    id: 'tls-mandatory',
    applies: (s) => s.role === 'submission' && s.mode === 'starttls',
    check: (s) => ({
      title: `Mail before STARTTLS is refused on ${s.port} (${s.service}): TLS is mandatory for submission`,
      why: 'RFC 8314: submission requires TLS; smtpd_tls_security_level = encrypt (or a reject_plaintext_session restriction)',
      client: { stopAfter: 'ehlo', plaintextProbe: PLAINTEXT_MAIL },
      expect: { 'probe.reply.code': { atLeast: 400 } },
    }),
  },
  {
    id: 'no-plaintext-greeting',
    applies: (s) => s.mode === 'implicit',
    check: (s) => ({
      title: `A plaintext client gets no greeting on ${s.port} (${s.service}): TLS from the first byte, so AUTH only inside TLS`,
      why: 'wrapper mode (smtpd_tls_wrappermode = yes): nothing, AUTH included, is said before TLS',
      client: { mode: 'plain', timeouts: { banner: 2000 } },
      expect: { 'error.stage': 'banner' },
    }),
  },
];

/** Check ids are per port: "587-auth-only-after-tls". */
export const portCheckId = (s: CheckedService, id: string) => `${s.port}-${id}`;

export interface CheckScenario {
  readonly scenario: Scenario;
  readonly services: readonly CheckedService[];
}

/** The in-memory scenario `check` runs: the overlaid config, its certificates, and the per-port checks. */
export function buildCheckScenario(o: OverlaidConfig): CheckScenario {
  const id = `check-${path.basename(path.resolve(o.dir)).toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+/, '').slice(0, 40) || 'config'}`;
  const effective = effectiveConfig({ mainCf: o.mainCf, masterCf: o.masterCf }, `check ${o.dir}`);
  const master = parseMasterCf(effective.masterCf, 'master.cf');
  const services = checkedServices(master, effective.items);
  const ctx = {
    certNames: o.certificates.map((c) => c.name),
    saslUsers: o.saslUsers,
    modeOf: (service: string) => serviceTlsMode(master, service, effective.items),
    services: services.map((s) => ({ service: s.service, port: s.port })),
    receivingNodes: [],
    // No lab DNS for a user's config (the field is optional where the context has it).
    zones: [] as string[],
  };
  const checks: CheckSpec[] = services.flatMap((s) =>
    PORT_EXPECTATIONS.filter((e) => e.applies(s)).map((e) =>
      readCheck(new Reader(`check:${e.id}`, { id: portCheckId(s, e.id), service: s.service, clients: ['raw'], configSays: `${s.service} (${s.roleBecause})`, ...e.check(s) }), ctx),
    ),
  );
  const scenario: Scenario = {
    id,
    title: `check of ${o.dir}`,
    summary: overlayLines(o).join('\n'),
    dir: o.dir,
    file: o.mainCf.file,
    seeds: [],
    timeoutSeconds: 300,
    mainCf: o.mainCf,
    masterCf: o.masterCf,
    maps: o.maps,
    certificates: o.certificates,
    saslUsers: o.saslUsers,
    nodes: DEFAULT_NODES,
    expectedWarnings: [],
    checks,
    breakIt: [],
  };
  return { scenario, services };
}
