import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../core/errors.js';
import { PROJECT_ROOT } from '../engine/paths.js';
import { MEASURE_NAMES } from './measures.js';
import type { ItemMatch, ProfileRule } from './rules.js';

/** Profiles are data files next to the sources (read from the checkout, so `build/` needs no copy). */
export const PROFILES_DIR = path.join(PROJECT_ROOT, 'harness', 'profiles');
export const PROFILE_SCHEMA = 'smtp-tls-lab/profile@1';
export const DEFAULT_PROFILE = 'ncsc-nl';

export interface Profile {
  readonly name: string;
  readonly title: string;
  readonly file: string;
  readonly sources: readonly { readonly id: string; readonly title: string; readonly url: string }[];
  /** Levels from best to worst, as the profile's source names them. */
  readonly levels: readonly string[];
  /** What the source asks that the lab does not measure, said instead of silently skipped. */
  readonly notMeasured: readonly { readonly what: string; readonly clause: string; readonly why: string }[];
  readonly rules: readonly ProfileRule[];
}

export function knownProfiles(dir: string = PROFILES_DIR): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort() : [];
}

const RULE_KEYS = ['id', 'title', 'clause', 'target', 'measure', 'roles', 'levels', 'severity', 'otherwise', 'failLevels', 'warnLevels', 'require', 'forbid', 'requireSome', 'expect', 'whenEmpty'];

function checkMatch(m: unknown, where: string, bad: (w: string, msg: string) => never): void {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) bad(where, 'an object: field -> regular expression or {atLeast, atMost}, or anyOf/allOf');
  for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
    if (k === 'anyOf' || k === 'allOf') {
      if (!Array.isArray(v) || v.length === 0) bad(`${where}.${k}`, 'a non-empty list of matches');
      (v as unknown[]).forEach((x, i) => checkMatch(x, `${where}.${k}[${i}]`, bad));
    } else if (typeof v === 'string') {
      try {
        new RegExp(v);
      } catch {
        bad(`${where}.${k}`, 'a valid regular expression');
      }
    } else if (typeof v !== 'object' || v === null || Object.keys(v).some((x) => x !== 'atLeast' && x !== 'atMost')) bad(`${where}.${k}`, 'a regular expression or {atLeast, atMost}');
  }
}

/** Load one profile by name; an unknown name is a usage error that lists the known ones. */
export function loadProfile(name: string, dir: string = PROFILES_DIR): Profile {
  const known = knownProfiles(dir);
  if (!known.includes(name)) throw new LabError('EUSAGE', `unknown profile '${name}' (known: ${known.join(', ')})`, { detail: `remedy: --profile ${known.join(' | ')}; profiles are the JSON files in ${dir}` });
  const file = path.join(dir, `${name}.json`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new LabError('ESCENARIO', `${file}: not valid JSON: ${(err as Error).message}`);
  }
  const bad = (where: string, want: string): never => {
    throw new LabError('ESCENARIO', `${file}: ${where}: expected ${want}`);
  };
  if (json.schema !== PROFILE_SCHEMA) bad('schema', `"${PROFILE_SCHEMA}"`);
  if (json.name !== name) bad('name', `"${name}" (the file name)`);
  if (!Array.isArray(json.rules) || json.rules.length === 0) bad('rules', 'a non-empty list');
  const ids = new Set<string>();
  (json.rules as Record<string, unknown>[]).forEach((r, i) => {
    const at = `rules[${i}]`;
    for (const k of Object.keys(r)) if (!RULE_KEYS.includes(k)) bad(`${at}.${k}`, `one of the rule keys (${RULE_KEYS.join(', ')})`);
    for (const k of ['id', 'title', 'clause', 'target', 'measure']) if (typeof r[k] !== 'string' || r[k] === '') bad(`${at}.${k}`, 'a non-empty string');
    if (!/^[a-z0-9][a-z0-9-]*$/.test(r.id as string) || ids.has(r.id as string)) bad(`${at}.id`, 'a rule id unique in the profile (lowercase letters, digits, -)');
    ids.add(r.id as string);
    if (!(MEASURE_NAMES as string[]).includes(r.measure as string)) bad(`${at}.measure`, `one of ${MEASURE_NAMES.join(', ')}`);
    if (!r.levels && !r.require && !r.forbid && !r.requireSome && !r.expect) bad(at, 'something to judge: levels, require, forbid, requireSome or expect (a rule that wants nothing can never fail)');
    if (r.levels && !Array.isArray(r.failLevels)) bad(`${at}.failLevels`, 'the levels that make the rule fail, for a rated rule');
    ((r.levels as { where: ItemMatch }[] | undefined) ?? []).forEach((l, k) => checkMatch(l.where, `${at}.levels[${k}].where`, bad));
    for (const k of ['require', 'forbid', 'requireSome'] as const) if (r[k] !== undefined) checkMatch(r[k], `${at}.${k}`, bad);
  });
  return {
    name,
    title: String(json.title ?? name),
    file,
    sources: (json.sources as Profile['sources'] | undefined) ?? [],
    levels: (json.levels as string[] | undefined) ?? [],
    notMeasured: (json.notMeasured as Profile['notMeasured'] | undefined) ?? [],
    rules: json.rules as ProfileRule[],
  };
}
