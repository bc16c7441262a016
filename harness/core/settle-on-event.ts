import type { EventEmitter } from 'node:events';
import type { LabError } from './errors.js';

/**
 * Resolve when `emitter` emits `ready`; reject with `failures.error(e)` on an 'error' before
 * that, or with `failures.close()` on a 'close' before that (a socket destroyed before it was
 * up emits 'close' alone). Whichever comes first settles the promise and removes the other
 * two listeners, so nothing fires into a settled promise or stays attached.
 */
export function settleOnEvent<T extends EventEmitter>(emitter: T, ready: string, failures: { readonly error: (e: Error & { code?: string }) => LabError; readonly close: () => LabError }): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      emitter.off(ready, onReady);
      emitter.off('error', onError);
      emitter.off('close', onClose);
    };
    const onReady = () => {
      done();
      resolve(emitter);
    };
    const onError = (e: Error & { code?: string }) => {
      done();
      reject(failures.error(e));
    };
    const onClose = () => {
      done();
      reject(failures.close());
    };
    emitter.once(ready, onReady);
    emitter.once('error', onError);
    emitter.once('close', onClose);
  });
}
