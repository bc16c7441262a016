import type { ServerHelloAnswer } from '../server-answer.js';

/** RFC 7627 extended_master_secret in the ServerHello of the highest version up to TLS 1.2 (TLS 1.3 has it built in: null). */
export function extendedMasterSecret(legacyTopFirst: ServerHelloAnswer | null): boolean | null {
  return legacyTopFirst ? legacyTopFirst.extendedMasterSecret : null;
}
