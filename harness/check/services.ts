import type { MainCfItem } from '../postfix/main-cf.js';
import { isWrapperMode, listeningPorts, type MasterCfEntry } from '../postfix/master-cf.js';
import type { ServiceRole } from './rules.js';

/** A listening SMTP service of the user's master.cf, as check judges it. */
export interface CheckedService {
  /** The master.cf service name (smtp, submission, 2525 …). */
  readonly service: string;
  readonly port: number;
  readonly mode: 'implicit' | 'starttls';
  /** relay: mail from other servers (opportunistic TLS); submission: clients with AUTH (TLS required, AUTH only inside it). */
  readonly role: ServiceRole;
  /** Why it has that role, in words. */
  readonly roleBecause: string;
  readonly daemon: string;
  /** Its -o syslog_name ($service_name expanded): how its smtpd's log lines are told apart; null when it logs as every other. */
  readonly syslogName: string | null;
}

const SUBMISSION_NAMES = new Set(['submission', 'submissions', 'smtps']);
const overrideOf = (e: MasterCfEntry, name: string) => new RegExp(`-o\\s+\\{?\\s*${name}\\s*=\\s*([^\\s}]*)`).exec(e.text)?.[1] ?? null;

/**
 * Every inet service run by smtpd (or postscreen in front of it) in the effective master.cf:
 * 25, 587, 465 and custom ports, wrapper mode or STARTTLS (its -o overrides, else main.cf).
 * Port 587/465 and the submission names are submission; a custom port is submission when its
 * -o enables SASL, else relay.
 */
export function checkedServices(master: readonly MasterCfEntry[], main: readonly MainCfItem[]): CheckedService[] {
  const out: CheckedService[] = [];
  for (const entry of master) {
    const daemon = entry.fields[7] ?? '';
    if (entry.type !== 'inet' || (daemon !== 'smtpd' && daemon !== 'postscreen')) continue;
    const [l] = listeningPorts([entry]);
    if (!l) continue;
    const mode = isWrapperMode(entry, main) ? 'implicit' : 'starttls';
    const sasl = overrideOf(entry, 'smtpd_sasl_auth_enable');
    const [role, because]: [ServiceRole, string] =
      l.port === 587 || l.port === 465 || SUBMISSION_NAMES.has(l.service)
        ? ['submission', `port ${l.port}${SUBMISSION_NAMES.has(l.service) ? ` (${l.service})` : ''} is for submission`]
        : sasl && /^(yes|true|1)$/i.test(sasl)
          ? ['submission', `-o smtpd_sasl_auth_enable=${sasl} on port ${l.port}`]
          : ['relay', `port ${l.port} takes mail from other servers`];
    const syslogName = overrideOf(entry, 'syslog_name')?.replace(/\$\{?service_name\}?/g, entry.service) ?? null;
    out.push({ service: l.service, port: l.port, mode, role, roleBecause: because, daemon, syslogName });
  }
  return out;
}
