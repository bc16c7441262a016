/**
 * A runtime description of a record type, checked by the compiler against the type itself:
 * `Shape<T>` demands every key of T (and, for object literals, no other), so the one schema
 * and the type cannot drift apart. Scenario files name fields of records by dotted path
 * ("tls.cipher.openssl"); the loader resolves those paths against a shape, so a misspelt
 * path is an error when the file loads instead of a check that reads `undefined`.
 *
 * - 'leaf': a string, number, boolean or null
 * - 'list': a list of plain values; the path may go on with an index ("lines.0") or "length"
 * - { list: shape }: a list of records; an index goes on into the record, "length" ends it
 * - 'record': an object with free keys (Record<string, …>); one more path part is allowed
 * - an object: its keys
 */
export type Shape<T> = [NonNullable<T>] extends [readonly (infer E)[]]
  ? [NonNullable<E>] extends [object]
    ? { readonly list: Shape<E> }
    : 'list'
  : [NonNullable<T>] extends [object]
    ? string extends keyof NonNullable<T>
      ? 'record'
      : { readonly [K in keyof NonNullable<T>]-?: Shape<NonNullable<T>[K]> }
    : 'leaf';

export type AnyShape = 'leaf' | 'list' | 'record' | { readonly list: AnyShape } | { readonly [key: string]: AnyShape };

function isObjectShape(s: AnyShape): s is { readonly [key: string]: AnyShape } {
  return typeof s === 'object' && !('list' in s && Object.keys(s).length === 1);
}

/** The shape of the field `path` names, or null when the shape has no such field (a whole sub-record counts). */
export function shapeAt(shape: AnyShape, path: string): AnyShape | null {
  let cur: AnyShape = shape;
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    if (cur === 'record') return last ? 'leaf' : null;
    if (cur === 'list' || (typeof cur === 'object' && !isObjectShape(cur))) {
      if (part === 'length') return last ? 'leaf' : null;
      if (!/^\d+$/.test(part)) return null;
      if (cur === 'list') return last ? 'leaf' : null;
      cur = (cur as { readonly list: AnyShape }).list;
      continue;
    }
    if (!isObjectShape(cur)) return null;
    if (!Object.prototype.hasOwnProperty.call(cur, part)) return null;
    cur = (cur as { readonly [key: string]: AnyShape })[part]!;
  }
  return cur;
}

/** Whether `path` names a field of the shape (a whole sub-record counts). */
export function resolvesIn(shape: AnyShape, path: string): boolean {
  return shapeAt(shape, path) !== null;
}

/** What kind of value a field holds, for an error that says why a matcher cannot apply. */
export function fieldKind(s: AnyShape): 'value' | 'list' | 'record' {
  if (s === 'leaf') return 'value';
  if (s === 'list' || (typeof s === 'object' && !isObjectShape(s))) return 'list';
  return 'record';
}

/** Every path the shape knows, parents before children. */
export function allPaths(shape: AnyShape, prefix = ''): string[] {
  if (!isObjectShape(shape)) return [];
  return Object.entries(shape).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [p, ...allPaths(v, p)];
  });
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

/** The known path nearest to a misspelt one (by edit distance), for the error's remedy. */
export function nearestPath(known: readonly string[], path: string): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(k.toLowerCase(), path.toLowerCase());
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  return best;
}
