import { LabError } from '../core/errors.js';
import { effectiveConfig } from '../postfix/effective-config.js';
import { parseMasterCf } from '../postfix/master-cf.js';
import type { BreakItSpec, Scenario } from './types.js';

/**
 * Applies a "break it" change to a loaded scenario, in memory: the scenario's own files are
 * never written. Pure text edits that keep the files as an admin would have them: a set
 * parameter replaces every earlier line of that name (Postfix keeps the last one anyway, but
 * a reader should see one), a removed one disappears with its continuation lines.
 */

/** main.cf without the given parameters (their continuation lines too). */
function withoutParams(text: string, names: readonly string[]): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of text.split('\n')) {
    if (/^\s+\S/.test(line) && !/^\s*#/.test(line)) {
      if (!skipping) out.push(line);
      continue;
    }
    const m = /^([A-Za-z0-9_]+)\s*=/.exec(line);
    skipping = m !== null && names.includes(m[1]!);
    if (!skipping) out.push(line);
  }
  return out.join('\n');
}

function editMainCf(text: string, change: NonNullable<BreakItSpec['mainCf']>): string {
  const body = withoutParams(text, [...Object.keys(change.set), ...change.remove]).replace(/\n*$/, '\n');
  return body + Object.entries(change.set).map(([k, v]) => `${k} = ${v}\n`).join('');
}

function editMasterCf(text: string, baseText: string, change: NonNullable<BreakItSpec['masterCf']>, file: string): string {
  const own = parseMasterCf(text, file);
  const entry = own.find((e) => e.service === change.service) ?? parseMasterCf(baseText, 'base-master.cf').find((e) => e.service === change.service);
  if (!entry) throw new LabError('ESCENARIO', `${file}: breakIt names master.cf service '${change.service}', which neither the scenario nor the lab base defines`);
  const names = [...Object.keys(change.set), ...change.remove];
  const kept = entry.text.split('\n').filter((l) => {
    const o = /^\s+-o\s+([A-Za-z0-9_]+)=/.exec(l);
    return !(o && names.includes(o[1]!));
  });
  const edited = [...kept, ...Object.entries(change.set).map(([k, v]) => `  -o ${k}=${v}`)].join('\n');
  return own.includes(entry) ? text.replace(entry.text, edited) : `${text.replace(/\n*$/, '\n')}${edited}\n`;
}

/** The lab base's master.cf, where a change to a service the scenario does not define finds its entry. */
export function labBaseMasterCf(): string {
  return effectiveConfig({ mainCf: { text: '', file: 'main.cf' }, masterCf: null }, 'base').masterCf;
}

/** The scenario as the change makes it; the caller validates the result like any loaded scenario. */
export function applyBreakIt(s: Scenario, b: BreakItSpec, baseMasterCf: string = labBaseMasterCf()): Scenario {
  let mainCf = s.mainCf.text;
  let masterCf = s.masterCf?.text ?? '';
  let maps = s.maps;
  if (b.mainCf) mainCf = editMainCf(mainCf, b.mainCf);
  if (b.masterCf) masterCf = editMasterCf(masterCf, baseMasterCf, b.masterCf, s.masterCf?.file ?? `${s.dir}/master.cf`);
  for (const r of b.replace) {
    const apply = (text: string, what: string) => {
      if (!text.includes(r.find)) throw new LabError('ESCENARIO', `${s.file}: breakIt '${b.title}': ${what} does not contain ${JSON.stringify(r.find)}`, { detail: 'remedy: quote the text exactly as the file has it' });
      return text.split(r.find).join(r.with);
    };
    if (r.file === 'main.cf') mainCf = apply(mainCf, 'main.cf');
    else if (r.file === 'master.cf') masterCf = apply(masterCf, 'master.cf');
    else maps = maps.map((m) => (m.name === r.file ? { ...m, text: apply(m.text, r.file) } : m));
  }
  return {
    ...s,
    mainCf: { ...s.mainCf, text: mainCf },
    masterCf: masterCf === '' && !s.masterCf ? null : { file: s.masterCf?.file ?? `${s.dir}/master.cf (break it)`, text: masterCf },
    maps,
  };
}
