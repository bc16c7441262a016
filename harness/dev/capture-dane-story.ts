/**
 * What a learner should see of a DANE scenario, taken from a real run, for its README:
 *
 *   npx tsx harness/dev/capture-dane-story.ts OUT_DIR [SCENARIO …]    # default: every scenario with a dns node
 *
 * Per scenario it starts the lab, runs every check, and writes OUT_DIR/<id>.md with: each zone
 * as the dns node signed it (its source, with the children's DS lines), the trust anchor,
 * `dig +dnssec` of every MX and TLSA name the zones hold (the ad flag, or SERVFAIL and the EDE),
 * and per check its verdict and the sender's log lines of its message. Keys and fingerprints
 * change every run: the README shows one run's, as an example.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runCheck } from '../checks/run-check.js';
import { ensureEngine } from '../engine/engine.js';
import { ensureImage } from '../engine/images.js';
import { SCENARIOS_DIR } from '../engine/paths.js';
import { ScenarioSession } from '../lab/scenario-session.js';
import { loadCatalogue } from '../scenario/load.js';

const [outDir, ...only] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: npx tsx harness/dev/capture-dane-story.ts OUT_DIR [SCENARIO …]');
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });
await ensureEngine((l) => console.error(l));
const image = await ensureImage('postfix');
const entries = loadCatalogue(SCENARIOS_DIR, only).filter((e) => e.scenario?.nodes.some((n) => n.kind === 'dns'));
for (const e of entries) {
  const scenario = e.scenario!;
  const session = await ScenarioSession.start(scenario, image.tag);
  const md: string[] = [`# ${scenario.id}: one real run (${new Date().toISOString()})`, ''];
  try {
    const dns = await session.node('dns', 'dns');
    md.push(`Trust anchor (the resolver's only one): \`${dns.trustAnchor}\``, '');
    for (const z of scenario.dns!.zones) {
      const src = await dns.exec(['cat', `/var/lib/lab-dns/zones/${z.name}.zone`]);
      md.push(`## Zone ${z.name} (${z.dnssec}${z.corruptType ? `: ${z.corruptType}` : ''}), as signed`, '', '```', src.output.trim(), '```', '');
      const names = src.output
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length > 2 && (f.includes('MX') || f.includes('TLSA')))
        .map((f) => ({ name: f[0] === '@' ? `${z.name}` : f[0]!.endsWith('.') ? f[0]!.slice(0, -1) : `${f[0]}.${z.name}`, type: f.includes('MX') ? 'MX' : 'TLSA' }));
      for (const q of names) {
        const r = await dns.exec(['dig', '+dnssec', '+time=3', '+tries=1', '@127.0.0.1', q.name, q.type]);
        const keep = r.output.split('\n').filter((l) => /status:|flags:|; EDE:|IN\s+(MX|TLSA)\s/.test(l) && !/RRSIG/.test(l));
        md.push(`\`dig +dnssec ${q.name} ${q.type}\` at the lab resolver:`, '', '```', ...keep, '```', '');
      }
    }
    for (const check of scenario.checks) {
      const since = session.postfix.log.size;
      const r = await runCheck(session, check);
      const lines = session.postfix.log
        .since(since)
        .filter((ev) => /postfix\/(smtp|lmtp|cleanup|qmgr)\[/.test(ev.raw) || ev.type === 'warning')
        .map((ev) => ev.raw);
      md.push(`## Check ${check.id}: ${r.status}`, '', r.message, '', '```', ...lines, '```', '');
    }
  } finally {
    await session.stop();
  }
  fs.writeFileSync(path.join(outDir, `${scenario.id}.md`), `${md.join('\n')}\n`);
  console.error(`wrote ${path.join(outDir, `${scenario.id}.md`)}`);
}
process.exit(0);
