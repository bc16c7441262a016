import { LabError } from '../core/errors.js';
import { withTimeout } from '../core/timeouts.js';

/**
 * A scenario's time budget (scenario.json `timeoutSeconds`), counted from start(). Every
 * step of the scenario runs within what is left, so one slow or stalled scenario ends as an
 * error at its own deadline and never holds up the run past it.
 */
export class ScenarioBudget {
  private deadline: number | null = null;

  constructor(
    readonly scenarioId: string,
    readonly seconds: number,
  ) {}

  /** Starts the clock (when the scenario starts, not when it is declared). */
  start(now: number = Date.now()): this {
    this.deadline = now + this.seconds * 1000;
    return this;
  }

  remainingMs(): number {
    if (this.deadline === null) return this.seconds * 1000;
    return Math.max(0, this.deadline - Date.now());
  }

  spent(): boolean {
    return this.remainingMs() === 0;
  }

  /** The work, bounded by what is left of the budget; EDEADLINE names the scenario, the budget and the step. */
  run<T>(step: string, work: Promise<T>): Promise<T> {
    if (this.spent()) return Promise.reject(this.notRun(step));
    return withTimeout(`scenario ${this.scenarioId} budget (timeoutSeconds ${this.seconds}) during ${step}`, this.remainingMs(), work, { code: 'EDEADLINE' });
  }

  /** Why a step was not even started. */
  notRun(step: string): LabError {
    return new LabError('EDEADLINE', `not run: scenario ${this.scenarioId} had spent its budget (timeoutSeconds ${this.seconds}) before ${step}`);
  }
}
