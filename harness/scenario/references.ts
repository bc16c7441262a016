import path from 'node:path';
import { LabError } from '../core/errors.js';
import { parseMainCf, type MainCfItem } from '../postfix/main-cf.js';
import { parseMasterCf } from '../postfix/master-cf.js';
import { GUARD_PARAMETERS } from '../postfix/effective-config.js';
import { CONTAINER_PATHS } from '../postfix/paths.js';
import { certificateFiles } from '../certs/materialize.js';
import type { Scenario } from './types.js';

/** Files the lab image itself provides (containers/postfix/recipe.json). */
const IMAGE_FILES = [`${CONTAINER_PATHS.dh}/ffdhe4096.pem`];
/** System locations lab Postfix may read from the image. */
const SYSTEM_PREFIXES = ['/etc/ssl/certs/', '/usr/share/ca-certificates/', '/etc/postfix/sasl/'];

/**
 * Before any container starts: the scenario's main.cf must not set what the lab guard fixes,
 * and every file path it names must be a file the lab will provide. A missing certificate
 * is named here, with the file and line, instead of surfacing later as a handshake failure.
 */
export function checkReferences(s: Scenario): void {
  const items = parseMainCf(s.mainCf.text, s.mainCf.file);
  const master = s.masterCf ? parseMasterCf(s.masterCf.text, s.masterCf.file) : [];
  for (const i of items) {
    if (i.kind === 'param' && GUARD_PARAMETERS.includes(i.name)) {
      throw new LabError('ESCENARIO', `${i.source}, line ${i.line}: ${i.name} is fixed by the lab and may not be set by a scenario`, {
        detail: 'remedy: remove the line. The lab keeps the log on stdout and mail inside the lab; route mail to lab peers with transport_maps',
      });
    }
  }
  const provided = new Set<string>([
    ...IMAGE_FILES,
    ...s.certificates.flatMap((c) => certificateFiles(c.name).map((f) => path.posix.join(CONTAINER_PATHS.tls, f))),
    path.posix.join(CONTAINER_PATHS.tls, 'lab-ca.crt'),
    ...s.maps.map((m) => path.posix.join(CONTAINER_PATHS.maps, m.name)),
  ]);
  const overrides: MainCfItem[] = master.flatMap((e) =>
    [...e.text.matchAll(/-o\s+([A-Za-z0-9_]+)=(\S+)/g)].map((m) => ({ kind: 'param' as const, name: m[1]!, value: m[2]!, line: e.line, source: e.source })),
  );
  for (const i of [...items, ...overrides]) {
    if (i.kind !== 'param' || !FILE_PARAMETER.test(i.name)) continue;
    for (const ref of fileReferences(i.value)) {
      if (provided.has(ref) || SYSTEM_PREFIXES.some((p) => ref.startsWith(p) || ref === p.replace(/\/$/, ''))) continue;
      const inLab = ref.startsWith('/etc/postfix/lab/');
      throw new LabError('ECERT_FILE', `${i.source}, line ${i.line}: ${i.name} names ${ref}, which ${inLab ? 'this scenario does not provide' : 'is not a lab file'}`, {
        detail: `remedy: ${inLab ? 'add the certificate or map to scenario.json, or fix the path' : 'use a lab path'}; the lab provides: ${[...provided].sort().join(', ')}`,
      });
    }
  }
}

/** Parameters whose values name files or maps. */
const FILE_PARAMETER = /(_file|_files|_CAfile|_CApath|_maps)$/;

/** Absolute paths in a parameter value, with any "type:" map prefix removed. */
function fileReferences(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((v) => v.replace(/^[a-z]+:/, ''))
    .filter((v) => v.startsWith('/') && !v.startsWith('/dev/'));
}
