import type { LabError } from '../core/errors.js';

/** The error `work` throws (a test then asserts its code and words); a work that throws nothing fails the test. */
export function refusal(work: () => unknown): LabError {
  try {
    work();
  } catch (err) {
    return err as LabError;
  }
  throw new Error('not refused');
}
