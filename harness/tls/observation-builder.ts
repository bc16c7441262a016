import { asLabError, LabError, type Stage } from '../core/errors.js';
import { deepFreeze } from '../core/freeze.js';
import { OBSERVATION_SCHEMA, type ClientName, type TlsMode, type TlsObservation, type TranscriptEntry } from './observation.js';

/**
 * How every lab client (raw, nodemailer, openssl) makes its TlsObservation: note what happens,
 * set each field when it is observed, fail once, finish. A field nobody set is null: a client
 * never writes a value it did not see, and no client spells out the whole record (so a field
 * added to TlsObservation is null everywhere until a client observes it, instead of a compile
 * error in three places or, worse, a guess).
 */

/** The fields a client observes; the rest (identity, timing, transcript, error) the builder keeps. */
export type ObservedFields = Omit<TlsObservation, 'schema' | 'client' | 'target' | 'startedAt' | 'durationMs' | 'transcript' | 'error'>;

/** Every observed field as nothing-seen. The type makes it list them all. */
const NOTHING_SEEN: { readonly [K in keyof ObservedFields]-?: ObservedFields[K] } = {
  localAddress: null,
  localPort: null,
  banner: null,
  capabilities: { beforeTls: null, afterTls: null },
  starttlsReply: null,
  probe: null,
  injection: null,
  renegotiation: null,
  resumption: null,
  tls: null,
  auth: null,
  delivery: null,
};

export class ObservationBuilder {
  readonly started: number;
  private readonly fields: Partial<{ -readonly [K in keyof ObservedFields]: ObservedFields[K] }> = {};
  private readonly entries: TranscriptEntry[] = [];
  private firstError: LabError | null = null;
  private done: TlsObservation | null = null;

  constructor(
    readonly client: ClientName,
    readonly target: { readonly host: string; readonly port: number; readonly mode: TlsMode },
    started: number = Date.now(),
  ) {
    this.started = started;
  }

  /** A transcript line: C = client sent, S = server sent, * = the client's own note. */
  note(dir: TranscriptEntry['dir'], text: string): void {
    this.entries.push({ t: Date.now() - this.started, dir, text });
  }

  /** Record an observed field (setting it again replaces it: the last thing seen wins, e.g. the last delivery reply). */
  set<K extends keyof ObservedFields>(key: K, value: ObservedFields[K]): void {
    this.fields[key] = value;
  }

  get<K extends keyof ObservedFields>(key: K): ObservedFields[K] {
    return (key in this.fields ? this.fields[key] : NOTHING_SEEN[key]) as ObservedFields[K];
  }

  /**
   * Record the failure that ended the session. The first one wins (a later one is a
   * consequence, e.g. the close after an alert); an error without a stage gets `stage`. It is
   * noted in the transcript, and returned so a caller can rethrow or inspect it.
   */
  fail(err: unknown, stage: Stage | null = null): LabError {
    if (this.firstError) return this.firstError;
    let e = asLabError(err);
    if (e.stage === null && stage !== null) e = new LabError(e.code, e.message, { stage, ...(e.detail !== undefined ? { detail: e.detail } : {}) });
    this.firstError = e;
    this.note('*', `error at ${e.stage ?? 'unknown stage'}: ${e.code} ${e.message}`);
    return e;
  }

  get error(): LabError | null {
    return this.firstError;
  }

  get transcript(): readonly TranscriptEntry[] {
    return this.entries;
  }

  /** The frozen observation; every field not set is null. Calling it again returns the same record. */
  finish(): TlsObservation {
    if (this.done) return this.done;
    const observation: TlsObservation = {
      schema: OBSERVATION_SCHEMA,
      client: this.client,
      target: { ...this.target },
      startedAt: new Date(this.started).toISOString(),
      durationMs: Date.now() - this.started,
      ...NOTHING_SEEN,
      ...this.fields,
      transcript: [...this.entries],
      error: this.firstError ? this.firstError.toRecord() : null,
    };
    this.done = deepFreeze(observation);
    return this.done;
  }
}

/** A finished observation with fields replaced (a resumption's second connection learns what the first got), frozen again. */
export function amendObservation(o: TlsObservation, fields: Partial<ObservedFields>): TlsObservation {
  return deepFreeze({ ...o, ...fields });
}
