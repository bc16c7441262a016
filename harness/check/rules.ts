import type { ProbeResult } from '../enum/probe-result.js';
import { PROBE_VERSIONS_IN_ORDER, measurementOf, type Item, type MeasureName } from './measures.js';

/**
 * A profile rule as data (harness/profiles/*.json): what it measures (a row of measures.ts),
 * how each measured item is rated or what the measured value must be, and the clause it comes
 * from. Rules for other targets (outbound smtp, DANE) are data with another `target` and
 * measures of their own; this engine judges the rules whose target it is asked for.
 */
export interface ProfileRule {
  readonly id: string;
  readonly title: string;
  /** The source clause, quoted or named: "NCSC-NL TLS guidelines v2.1, B1-1". */
  readonly clause: string;
  /** What is checked against: 'smtpd' (a listening service) today; 'smtp' (outbound), 'dane' later. */
  readonly target: string;
  readonly measure: MeasureName;
  /** Only on services of these roles (relay: port 25 and others; submission: 587, 465); all when absent. */
  readonly roles?: readonly ServiceRole[];
  /** Ratings: each item gets the level of the first entry it matches, else `otherwise`. */
  readonly levels?: readonly { readonly level: string; readonly where: ItemMatch }[];
  readonly otherwise?: string;
  /** The levels from best to worst, when the rating entries are not listed in that order (first match wins there). */
  readonly severity?: readonly string[];
  /** Items rated at one of these levels make the rule fail. */
  readonly failLevels?: readonly string[];
  /** Items rated at one of these levels are reported as a note (internet.nl's warning), the rule still holds. */
  readonly warnLevels?: readonly string[];
  /** Every item must match. */
  readonly require?: ItemMatch;
  /** No item may match. */
  readonly forbid?: ItemMatch;
  /** At least one item must match (e.g. "TLS 1.2 or 1.3 accepted"). */
  readonly requireSome?: ItemMatch;
  /** The measured value (a scalar measure) must satisfy this. */
  readonly expect?: ValueExpectation;
  /** What the rule says when the measure has nothing to judge (no DHE suite, no TLS <= 1.2): holds (default) or no verdict. */
  readonly whenEmpty?: 'holds' | 'no-verdict';
}

export type ServiceRole = 'relay' | 'submission';

/** Field of an item -> a regular expression (whole value, case-insensitive) or a number range; `anyOf` for alternatives. */
export type ItemMatch = { readonly anyOf: readonly ItemMatch[] } | { readonly allOf: readonly ItemMatch[] } | Readonly<Record<string, string | NumberRange>>;
export interface NumberRange {
  readonly atLeast?: number;
  readonly atMost?: number;
}
export type ValueExpectation = { readonly equals: string | number | boolean | null } | { readonly oneOf: readonly (string | number | boolean | null)[] } | NumberRange;

/** One rule's outcome on one service: what was measured, the levels found, whether it holds (null: no verdict, see `why`). */
export interface RuleOutcome {
  readonly ruleId: string;
  readonly title: string;
  readonly clause: string;
  readonly measure: MeasureName;
  /** In words: what was measured. */
  readonly measured: string;
  /** What the rule wants, in words. */
  readonly wants: string;
  readonly observed: unknown;
  /** Per item: its level (rated rules) or whether it offends (require/forbid). */
  readonly items: readonly { readonly item: string; readonly level: string | null; readonly ok: boolean }[];
  /** The worst level found (rated rules), else 'holds' / 'violated'. */
  readonly level: string;
  readonly holds: boolean | null;
  readonly notes: readonly string[];
  /** Why there is no verdict (the probe could not determine the measure). */
  readonly why: string | null;
}

export function matches(item: Item, m: ItemMatch): boolean {
  if ('anyOf' in m && Array.isArray(m.anyOf)) return (m.anyOf as ItemMatch[]).some((x) => matches(item, x));
  if ('allOf' in m && Array.isArray(m.allOf)) return (m.allOf as ItemMatch[]).every((x) => matches(item, x));
  return Object.entries(m as Record<string, string | NumberRange>).every(([field, want]) => {
    const v = item.fields[field];
    if (v === undefined || v === null) return false;
    if (typeof want === 'string') return new RegExp(`^(?:${want})$`, 'i').test(String(v));
    const n = Number(v);
    return (want.atLeast === undefined || n >= want.atLeast) && (want.atMost === undefined || n <= want.atMost);
  });
}

function expectationHolds(v: unknown, e: ValueExpectation): boolean {
  if ('equals' in e) return v === e.equals;
  if ('oneOf' in e) return (e.oneOf as unknown[]).includes(v);
  if (typeof v !== 'number') return false;
  return (e.atLeast === undefined || v >= e.atLeast) && (e.atMost === undefined || v <= e.atMost);
}

const describeMatch = (m: ItemMatch): string =>
  'anyOf' in m && Array.isArray(m.anyOf)
    ? (m.anyOf as ItemMatch[]).map(describeMatch).join(' or ')
    : 'allOf' in m && Array.isArray(m.allOf)
      ? (m.allOf as ItemMatch[]).map(describeMatch).join(' and ')
      : Object.entries(m as Record<string, string | NumberRange>)
          .map(([f, w]) => (typeof w === 'string' ? `${f} ~ /${w}/` : `${f} ${w.atLeast !== undefined ? `>= ${w.atLeast}` : ''}${w.atMost !== undefined ? ` <= ${w.atMost}` : ''}`.trim()))
          .join(', ');

export function wantsOf(rule: ProfileRule): string {
  const parts: string[] = [];
  if (rule.levels) parts.push(`no item rated ${(rule.failLevels ?? []).join(' or ') || '(nothing fails)'}`);
  if (rule.require) parts.push(`every item: ${describeMatch(rule.require)}`);
  if (rule.forbid) parts.push(`no item: ${describeMatch(rule.forbid)}`);
  if (rule.requireSome) parts.push(`some item: ${describeMatch(rule.requireSome)}`);
  if (rule.expect) parts.push(`value ${JSON.stringify(rule.expect)}`);
  return parts.join('; ');
}

/** Judge one rule on one probe result. Pure: the same result gives the same outcome. */
export function evaluateRule(rule: ProfileRule, result: ProbeResult): RuleOutcome {
  const m = measurementOf(rule.measure, result);
  const base = { ruleId: rule.id, title: rule.title, clause: rule.clause, measure: rule.measure, measured: m.describes, wants: wantsOf(rule) };
  if (m.undetermined) return { ...base, observed: null, items: [], level: 'not determined', holds: null, notes: [], why: m.undetermined };
  const notes: string[] = [];
  // A rated scalar (client renegotiation: refused good, accepted sufficient) is one item.
  if (m.kind === 'value' && rule.levels && m.value !== null) return evaluateItems(rule, base, [{ label: String(m.value), fields: { value: m.value } }], m.emptyMeans);
  if (m.kind === 'value') {
    if (m.value === null && rule.expect && !('equals' in rule.expect && rule.expect.equals === null)) {
      const none = rule.whenEmpty === 'no-verdict';
      return { ...base, observed: null, items: [], level: none ? 'not determined' : 'not applicable', holds: none ? null : true, notes: [`nothing to measure: ${m.emptyMeans}`], why: none ? m.emptyMeans : null };
    }
    const ok = rule.expect ? expectationHolds(m.value, rule.expect) : true;
    return { ...base, observed: m.value, items: [], level: ok ? 'holds' : 'violated', holds: ok, notes, why: null };
  }
  if (m.items.length === 0 && rule.whenEmpty === 'no-verdict') return { ...base, observed: [], items: [], level: 'not determined', holds: null, notes: [], why: m.emptyMeans };
  return evaluateItems(rule, base, m.items, m.emptyMeans);
}

type OutcomeBase = Pick<RuleOutcome, 'ruleId' | 'title' | 'clause' | 'measure' | 'measured' | 'wants'>;

function evaluateItems(rule: ProfileRule, base: OutcomeBase, measuredItems: readonly Item[], emptyMeans: string): RuleOutcome {
  const notes: string[] = [];
  const m = { items: measuredItems, emptyMeans };
  const items = m.items.map((it) => {
    let level: string | null = null;
    let ok = true;
    if (rule.levels) {
      level = rule.levels.find((l) => matches(it, l.where))?.level ?? rule.otherwise ?? 'unrated';
      if (rule.failLevels?.includes(level)) ok = false;
    }
    if (rule.require && !matches(it, rule.require)) ok = false;
    if (rule.forbid && matches(it, rule.forbid)) ok = false;
    return { item: it.label, level, ok };
  });
  let holds = items.every((i) => i.ok);
  if (rule.requireSome && !m.items.some((it) => matches(it, rule.requireSome!))) {
    holds = false;
    notes.push(`no item matches ${describeMatch(rule.requireSome)}`);
  }
  for (const w of rule.warnLevels ?? []) {
    const at = items.filter((i) => i.level === w).map((i) => i.item);
    if (at.length) notes.push(`${w}: ${at.join(', ')}`);
  }
  if (m.items.length === 0) notes.push(`nothing to measure: ${m.emptyMeans}`);
  const order = [...(rule.severity ?? rule.levels?.map((l) => l.level) ?? [])];
  if (rule.otherwise && !order.includes(rule.otherwise)) order.push(rule.otherwise);
  const worst = rule.levels ? items.reduce<string | null>((w, i) => (i.level !== null && (w === null || order.indexOf(i.level) > order.indexOf(w)) ? i.level : w), null) : null;
  return { ...base, observed: m.items.map((i) => i.label), items, level: worst ?? (holds ? 'holds' : 'violated'), holds, notes, why: null };
}

export { PROBE_VERSIONS_IN_ORDER };
