import { LabError, type ErrorCode, type Stage } from './errors.js';

/**
 * Every wait in the lab has a name and a bound. When one expires, the error says which wait
 * it was and how long it waited, so "it hung" never appears in a report.
 */
export const TIMEOUTS = {
  tcpConnect: 5_000,
  banner: 10_000,
  reply: 10_000,
  tlsHandshake: 10_000,
  delivery: 20_000,
  postfixReady: 60_000,
  clientReady: 30_000,
  containerStop: 10_000,
  imageBuild: 900_000,
} as const;

export type TimeoutName = keyof typeof TIMEOUTS;

export async function withTimeout<T>(
  name: string,
  ms: number,
  work: Promise<T>,
  opts: { code?: ErrorCode; stage?: Stage; onTimeout?: () => void } = {},
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      opts.onTimeout?.();
      reject(
        new LabError(opts.code ?? 'ETIMEOUT', `timeout '${name}' expired after ${ms} ms`, {
          ...(opts.stage ? { stage: opts.stage } : {}),
        }),
      );
    }, ms);
    timer.unref?.();
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
