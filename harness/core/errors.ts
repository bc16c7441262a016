/**
 * The one table of error codes. Every failure the lab reports carries a code from here and,
 * for network clients, the stage it happened at. Infrastructure codes decide the outcome:
 * a failure of the lab itself is never reported as a pass or a fail of the server.
 */

export const STAGES = ['tcp', 'banner', 'ehlo', 'starttls', 'handshake', 'auth', 'mail', 'quit'] as const;
export type Stage = (typeof STAGES)[number];

export interface ErrorCodeInfo {
  /** What the code means, for people reading a report. */
  readonly meaning: string;
  /** True when the lab (engine, image, tool, config, timeout before ready) failed, not the server under test. */
  readonly infrastructure: boolean;
}

export const ERROR_CODES = {
  // Network clients: the server's answer or behaviour.
  ECONNECTION: { meaning: 'TCP connection refused, reset or unreachable', infrastructure: false },
  ETIMEOUT: { meaning: 'a named timeout expired while waiting for the server', infrastructure: false },
  EPROTOCOL: { meaning: 'the server sent something that is not valid SMTP', infrastructure: false },
  EREPLY_TOO_LONG: { meaning: 'a reply line or multiline reply exceeded the client limit', infrastructure: false },
  EBANNER: { meaning: 'the server greeting was not 220', infrastructure: false },
  EEHLO: { meaning: 'EHLO was refused', infrastructure: false },
  ENOSTARTTLS: { meaning: 'STARTTLS was not advertised', infrastructure: false },
  ESTARTTLS: { meaning: 'STARTTLS was refused', infrastructure: false },
  ETLS: { meaning: 'the TLS handshake failed', infrastructure: false },
  EAUTH: { meaning: 'authentication failed or was refused', infrastructure: false },
  EENVELOPE: { meaning: 'MAIL FROM or RCPT TO was refused', infrastructure: false },
  EMESSAGE: { meaning: 'the message data was refused', infrastructure: false },
  ECLOSED: { meaning: 'the server closed the connection unexpectedly', infrastructure: false },
  EINJECTION: { meaning: 'plaintext sent around STARTTLS survived into the TLS session', infrastructure: false },
  // The lab itself.
  EENGINE: { meaning: 'no Docker engine is reachable and none could be started', infrastructure: true },
  EIMAGE: { meaning: 'a lab image could not be built', infrastructure: true },
  ECONTAINER: { meaning: 'a lab container could not be created or started', infrastructure: true },
  EISOLATION: { meaning: 'a lab container could not be cut off from everything outside the lab, so it was not run', infrastructure: true },
  EPOSTFIX_CHECK: { meaning: "Postfix refused the scenario's configuration", infrastructure: true },
  ENOT_READY: { meaning: 'a lab container did not become ready in time', infrastructure: true },
  EDNS: { meaning: "the lab DNS could not sign or serve its zones, or a zone did not validate as the scenario says, so no DNS or DANE verdict can be given", infrastructure: true },
  EPEER: { meaning: 'a capturing peer could not listen (its port is taken, or the lab network is gone), so the sender was never tested', infrastructure: true },
  ESTS: { meaning: 'the MTA-STS lab could not run: the policy host could not listen on 443, or the resolver (mta-sts-daemon) or the TLS-RPT reader did not start or answer, so no MTA-STS or TLS-RPT verdict can be given', infrastructure: true },
  EDEADLINE: { meaning: "the scenario's time budget (timeoutSeconds) was spent before this check ended; no verdict", infrastructure: true },
  ESCENARIO: { meaning: 'a scenario file is invalid', infrastructure: true },
  ENO_ASSERTIONS: { meaning: 'a check ended without judging anything (no assertion was made), so it is no verdict', infrastructure: true },
  ECERT_FILE: { meaning: 'a certificate or key file named by a scenario is missing or unreadable', infrastructure: true },
  ETOOL: { meaning: 'a client tool the check needs is missing', infrastructure: true },
  ECLIENT_CAPABILITY: { meaning: 'the client could not offer what the check asked for (its own TLS library refused)', infrastructure: true },
  EINCOMPLETE: { meaning: 'probe could not finish a finding the check needs (a feature failed), so the check is no verdict', infrastructure: true },
  EUSAGE: { meaning: 'the command line is invalid', infrastructure: true },
  EINTERNAL: { meaning: 'a bug in the lab', infrastructure: true },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface LabErrorRecord {
  readonly code: ErrorCode;
  readonly stage: Stage | null;
  readonly message: string;
  /** Extra evidence: the server reply, Postfix's own words, a file path. */
  readonly detail?: string;
}

export class LabError extends Error {
  readonly code: ErrorCode;
  readonly stage: Stage | null;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { stage?: Stage | null; detail?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LabError';
    this.code = code;
    this.stage = opts.stage ?? null;
    this.detail = opts.detail;
  }

  get infrastructure(): boolean {
    return ERROR_CODES[this.code].infrastructure;
  }

  toRecord(): LabErrorRecord {
    const rec: LabErrorRecord = { code: this.code, stage: this.stage, message: this.message };
    return this.detail === undefined ? rec : { ...rec, detail: this.detail };
  }
}

/** Any thrown value as a LabError: unknown errors become EINTERNAL so they are never mistaken for a server verdict. */
export function asLabError(err: unknown, fallback: ErrorCode = 'EINTERNAL'): LabError {
  if (err instanceof LabError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new LabError(fallback, message, { cause: err });
}

export function isInfrastructure(code: ErrorCode): boolean {
  return ERROR_CODES[code].infrastructure;
}
