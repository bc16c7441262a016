import { asLabError, LabError } from '../core/errors.js';
import type { ProbeVersion } from './cipher-suites.js';
import { PROBE_FEATURES, type ProbeFeatureError, type ProbeFeatureName, type ProbeFeatureStatus } from './probe-result.js';

/**
 * Each feature's own outcome. A feature that fails records its error here (code, stage,
 * message, and the version for per-version features) and the probe goes on with the rest; a
 * feature that needs another one's finding, which failed, records that dependency with the
 * other one's code and stage.
 */
export class FeatureLog {
  private readonly errors = new Map<ProbeFeatureName, ProbeFeatureError[]>();
  private readonly succeeded = new Set<ProbeFeatureName>();
  private readonly notes = new Map<ProbeFeatureName, string>();
  private readonly skipped = new Set<ProbeFeatureName>();

  fail(feature: ProbeFeatureName, err: unknown, version: ProbeVersion | null = null): ProbeFeatureError {
    const e = asLabError(err);
    const rec: ProbeFeatureError = { code: e.code, stage: e.stage, message: e.message, version };
    const list = this.errors.get(feature) ?? [];
    list.push(rec);
    this.errors.set(feature, list);
    return rec;
  }

  /** The feature cannot be decided because `dependency` (for `version`, if given) failed, with `error` (default: the error logged for it). */
  failBecause(feature: ProbeFeatureName, dependency: ProbeFeatureName, version: ProbeVersion | null = null, what = '', error?: LabError): void {
    const cause = error ?? this.errorsOf(dependency).find((e) => version === null || e.version === version) ?? this.errorsOf(dependency)[0];
    const v = version ?? (cause && 'version' in cause ? cause.version : null);
    const message = `not decided${what ? ` (${what})` : ''}: it needs ${dependency}${v ? ` for ${v}` : ''}, which failed${cause ? `: ${cause.message}` : ''}`;
    this.fail(feature, new LabError(cause?.code ?? 'EINTERNAL', message, { stage: cause?.stage ?? null }), v);
  }

  ok(feature: ProbeFeatureName, note?: string): void {
    this.succeeded.add(feature);
    if (note) this.notes.set(feature, note);
  }

  notRun(feature: ProbeFeatureName, note: string): void {
    this.skipped.add(feature);
    this.notes.set(feature, note);
  }

  errorsOf(feature: ProbeFeatureName): readonly ProbeFeatureError[] {
    return this.errors.get(feature) ?? [];
  }

  failedFor(feature: ProbeFeatureName, version: ProbeVersion): boolean {
    return this.errorsOf(feature).some((e) => e.version === version);
  }

  statuses(): Record<ProbeFeatureName, ProbeFeatureStatus> {
    const out = {} as Record<ProbeFeatureName, ProbeFeatureStatus>;
    for (const f of PROBE_FEATURES) {
      const errors = [...this.errorsOf(f)];
      const note = this.notes.get(f) ?? null;
      if (errors.length > 0) out[f] = { status: 'failed', errors, note };
      else if (this.succeeded.has(f)) out[f] = { status: 'ok', errors: [], note };
      else if (this.skipped.has(f)) out[f] = { status: 'not-run', errors: [], note };
      // A feature nobody decided is a bug of the probe, shown as one rather than as a finding.
      else out[f] = { status: 'failed', errors: [{ code: 'EINTERNAL', stage: null, message: `the probe never decided ${f}`, version: null }], note };
    }
    return out;
  }
}
