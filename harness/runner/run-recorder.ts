import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/**
 * Keeps what vitest hands over when the run ends: the finished test modules and the errors
 * outside any test. The runner builds the run's one report from them after vitest closes.
 */
export class RunRecorder implements Reporter {
  modules: readonly TestModule[] | null = null;
  unhandled: readonly SerializedError[] = [];

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>): void {
    this.modules = [...modules];
    this.unhandled = [...unhandled];
  }

  /** Errors of the run outside any scenario: unhandled ones, and test files that failed to load or run. */
  infrastructureErrors(): string[] {
    return [
      ...this.unhandled.map((e) => `unhandled: ${e.message}`),
      ...(this.modules ?? []).flatMap((m) => m.errors().map((e) => `${m.moduleId}: ${e.message}`)),
    ];
  }
}
