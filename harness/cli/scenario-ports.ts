import { effectiveConfig } from '../postfix/effective-config.js';
import { listeningPorts, parseMasterCf } from '../postfix/master-cf.js';
import type { Scenario } from '../scenario/types.js';

export interface ServicePort {
  readonly service: string;
  readonly port: number;
  /** The ids of the scenario's checks that talk to this service. */
  readonly checks: readonly string[];
}

/**
 * The master.cf services a scenario's checks use, with their ports, from the master.cf Postfix
 * will run (the lab base with the scenario's entries laid over it), in port order.
 */
export function scenarioPorts(s: Scenario): ServicePort[] {
  const master = parseMasterCf(effectiveConfig({ mainCf: s.mainCf, masterCf: s.masterCf }, `scenario ${s.id}`).masterCf, 'master.cf');
  const listening = listeningPorts(master);
  const byService = new Map<string, ServicePort>();
  for (const c of s.checks) {
    // A delivery check injected with sendmail talks to no service: it tests what Postfix sends.
    if (c.kind === 'delivery' && c.send.via === 'sendmail') continue;
    const hit = listening.find((p) => p.service === c.service || String(p.port) === c.service);
    if (!hit) continue; // the loader refuses a check whose service Postfix does not listen on
    const seen = byService.get(hit.service);
    byService.set(hit.service, { service: hit.service, port: hit.port, checks: [...(seen?.checks ?? []), c.id] });
  }
  return [...byService.values()].sort((a, b) => a.port - b.port);
}
