import type { ServerHelloAnswer } from '../server-answer.js';

/**
 * Compression (CRIME): every legacy version's first hello offered DEFLATE next to null
 * compression; the server chose DEFLATE at some version, or at none. null when no version up
 * to TLS 1.2 was accepted (TLS 1.3 has no compression).
 */
export function compressionChosen(legacyFirsts: readonly ServerHelloAnswer[]): boolean | null {
  if (legacyFirsts.length === 0) return null;
  return legacyFirsts.some((a) => a.compression !== 0);
}
