import { LabError } from '../core/errors.js';
import type { PostfixLogEvent } from '../postfix/log-parser.js';
import type { Scenario } from '../scenario/types.js';
import type { Finding } from './result.js';

/**
 * Warnings Postfix writes when a setting leaves it without TLS. A check against such a
 * server would report "454 4.7.0 TLS not available" as a fail of the server; it is a mistake
 * in the configuration, so the scenario is an error instead, quoting Postfix.
 */
const TLS_DISABLED = /disabling TLS support|TLS (?:is )?(?:not available|disabled)|cannot (?:load|get) (?:RSA|DSA|ECDSA|EC|\S+)? ?(?:certificate|private key)|no (?:server )?certificate/i;

function warningText(e: PostfixLogEvent): string | null {
  if (e.type === 'warning' || e.type === 'fatal' || e.type === 'panic') return `${e.type}: ${e.text}`;
  if (e.type === 'postconf' && e.level !== 'info') return `${e.level}: ${e.text}`;
  return null;
}

/**
 * Postfix's own warnings from its start-up and the lab's warm-up connections, each marked
 * expected when the scenario declares it (postfix.expectedWarnings, regular expressions over
 * the text). The same warning repeated (postconf runs several times) is one finding.
 * `configError` is set when an undeclared warning says Postfix disabled TLS, or smtpd died
 * on a fatal error at its first connection: then no check of the scenario is a verdict.
 */
export function startupFindings(scenario: Pick<Scenario, 'id' | 'file' | 'expectedWarnings'>, events: readonly PostfixLogEvent[]): { readonly findings: readonly Finding[]; readonly configError: LabError | null } {
  const expected = scenario.expectedWarnings.map((w) => new RegExp(w));
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const e of events) {
    const text = warningText(e);
    if (text === null || seen.has(text)) continue;
    seen.add(text);
    findings.push({ kind: 'postfix-warning', expected: expected.some((x) => x.test(text)), text, raw: e.raw });
  }
  const fatal = findings.find((f) => !f.expected && (TLS_DISABLED.test(f.text) || /^(fatal|panic): /.test(f.text)));
  const configError = fatal
    ? new LabError('EPOSTFIX_CHECK', `Postfix logged "${fatal.text}" for scenario ${scenario.id}: its configuration leaves Postfix without working TLS, so no check can give a verdict`, {
        detail: `remedy: fix the setting Postfix names in ${scenario.file}'s main.cf/master.cf; if the scenario teaches this very warning, declare it in postfix.expectedWarnings\n${fatal.raw}`,
      })
    : null;
  return { findings, configError };
}
