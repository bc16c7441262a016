import type { StarttlsDialogue } from '../probe-result.js';
import type { ProbeMode, SmtpDialogue } from '../starttls-transport.js';
import type { FeatureHandshake } from './feature-handshake.js';

/**
 * The SMTP dialogue: in STARTTLS mode the banner and EHLO before TLS (from the first
 * connection that got that far) and AUTH exposed there, plus the EHLO inside TLS from the
 * feature handshake; in implicit mode the greeting and EHLO inside TLS. null for plain TLS.
 */
export function starttlsDialogue(mode: ProbeMode, before: SmtpDialogue | null, inside: FeatureHandshake | null): StarttlsDialogue | null {
  if (mode === 'starttls') {
    const caps = before?.capabilities ?? null;
    const auth = (caps ?? []).find((c) => /^AUTH[ =]/i.test(c));
    return {
      banner: before?.banner ?? null,
      capabilitiesBefore: caps,
      capabilitiesAfter: inside?.capabilitiesAfter ?? null,
      authBeforeTls: caps ? auth !== undefined : null,
      authMechanismsBeforeTls: auth ? auth.slice(5).trim().split(/\s+/).filter(Boolean) : [],
    };
  }
  if (mode === 'implicit') {
    return { banner: inside?.bannerInTls ?? null, capabilitiesBefore: null, capabilitiesAfter: inside?.capabilitiesAfter ?? null, authBeforeTls: null, authMechanismsBeforeTls: [] };
  }
  return null;
}
