import { describe, expect, it } from 'vitest';
import { evaluate, getPath } from '../../checks/matchers.js';

const obs = { tls: { protocol: 'TLSv1.3', cipher: { openssl: 'TLS_AES_256_GCM_SHA384' } }, capabilities: { beforeTls: ['PIPELINING', 'STARTTLS'] }, error: null };

describe('matchers', () => {
  it('reads dotted paths', () => {
    expect(getPath(obs, 'tls.cipher.openssl')).toBe('TLS_AES_256_GCM_SHA384');
    expect(getPath(obs, 'tls.nope.deeper')).toBeUndefined();
  });

  it.each([
    ['TLSv1.3', 'TLSv1.3', true],
    ['TLSv1.2', 'TLSv1.3', false],
    [{ oneOf: ['TLSv1.2', 'TLSv1.3'] }, 'TLSv1.3', true],
    [{ includes: 'STARTTLS' }, ['PIPELINING', 'STARTTLS'], true],
    [{ includes: 'STARTTLS' }, ['PIPELINING'], false],
    [{ excludes: 'AUTH' }, ['PIPELINING'], true],
    [{ matches: '^DHE-' }, 'DHE-RSA-AES256-GCM-SHA384', true],
    [{ matches: '^DHE-' }, undefined, false],
    [{ atLeast: 4096 }, 4096, true],
    [{ atLeast: 4096 }, 2048, false],
    [{ exists: false }, null, true],
    [null, null, true],
    [null, undefined, false],
  ] as const)('%j against %j is %s', (m, actual, ok) => {
    expect(evaluate(m as never, actual, obs).ok).toBe(ok);
  });

  it('compares with the client observation (equalsObserved, includesTemplate)', () => {
    expect(evaluate({ equalsObserved: 'tls.protocol' }, 'TLSv1.3', obs)).toEqual({ ok: true, expected: { equals: 'TLSv1.3', from: 'client observation tls.protocol' } });
    expect(evaluate({ equalsObserved: 'tls.protocol' }, 'TLSv1.2', obs).ok).toBe(false);
    const header = 'Received: from c (unknown [1.2.3.4])  (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))';
    expect(evaluate({ includesTemplate: '(using {tls.protocol} with cipher {tls.cipher.openssl}' }, header, obs).ok).toBe(true);
    expect(evaluate({ includesTemplate: '(using {tls.protocol} with cipher {tls.cipher.openssl}' }, header.replace('TLSv1.3', 'TLSv1.2'), obs).ok).toBe(false);
  });
});
