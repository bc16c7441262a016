import type Dockerode from 'dockerode';
import { LabError } from '../core/errors.js';
import { LabWaitStrategy } from '../engine/lab-container.js';
import type { PostfixLog } from './log-stream.js';
import type { PostfixLogEvent } from './log-parser.js';

/**
 * Readiness of a lab Postfix: master logged "daemon started". It fails fast, with Postfix's
 * own words, when the entrypoint reports a failed postconf / postfix check / postmap, when
 * lab-isolate could not cut the container off (EISOLATION), or when the container's output
 * ends (the container exited). On timeout it names what it waited for.
 */
export class PostfixReadyWaitStrategy extends LabWaitStrategy {
  readonly waitsFor = "postfix-ready (log line 'daemon started')";

  constructor(private readonly log: PostfixLog) {
    super();
  }

  async waitUntilReady(_container: Dockerode.Container): Promise<void> {
    let outcome: PostfixLogEvent;
    try {
      outcome = await this.log.waitFor(
        this.waitsFor,
        (e) => e.type === 'daemon-started' || (e.type === 'entrypoint' && e.failed),
        this.getStartupTimeout(),
      );
    } catch (err) {
      const said = postfixWords(this.log.all());
      const ended = err instanceof LabError && /ended/.test(err.message);
      throw new LabError(ended ? 'ECONTAINER' : 'ENOT_READY', ended ? 'the Postfix container exited before it was ready' : (err as Error).message, {
        ...(said ? { detail: said } : {}),
      });
    }
    if (outcome.type === 'entrypoint' && outcome.raw.startsWith('lab-isolate:')) {
      throw new LabError('EISOLATION', `the container could not be isolated: ${outcome.text}`, { detail: outcome.raw });
    }
    if (outcome.type === 'entrypoint') {
      const said = postfixWords(this.log.all());
      throw new LabError('EPOSTFIX_CHECK', `Postfix refused the configuration: ${said || outcome.text}`, { detail: outcome.raw });
    }
  }
}

/** What Postfix and its tools said that explains a failure: fatal and warning lines, then the rest. */
export function postfixWords(events: readonly PostfixLogEvent[]): string {
  const telling = events.filter((e) => e.type === 'postconf' || e.type === 'fatal' || e.type === 'panic' || (e.type === 'other' && /error|fatal|cannot|failed/i.test(e.text)));
  const lines = (telling.length > 0 ? telling : events.slice(-5)).map((e) => e.raw.trim());
  return [...new Set(lines)].slice(0, 10).join('\n');
}
