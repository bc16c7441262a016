import path from 'node:path';
import { LabError, asLabError } from '../core/errors.js';
import { forTerminal } from '../core/escape.js';
import { oneOf, oneStackFlag, parseCommandLine, positiveInt, shardFlag } from './args.js';
import { COMMANDS, usage } from './commands.js';

// Only the modules above load for every command (help and usage errors need no more). Each
// command imports what it uses when it runs: probe never loads testcontainers, vitest, nodemailer
// or the lab engine, and help answers before any of them could load (harness/tests/lab/cli-speed.test.ts).
const paths = () => import('../engine/paths.js');
const engine = () => import('../engine/engine.js');
const cleanup = () => import('../engine/cleanup.js');

const say = (l: string) => process.stderr.write(`${l}\n`);

/** A lab error for the terminal: code and message, then each line of its detail, escaped. */
function sayLabError(e: LabError): void {
  say(`smtp-tls-lab: ${e.code}: ${forTerminal(e.message, 4000)}`);
  for (const line of e.detail?.split('\n') ?? []) say(`  ${forTerminal(line, 4000)}`);
}

const withConcurrency = (n: number | undefined) => (n === undefined ? {} : { concurrency: n });
const out = (l: string) => process.stdout.write(`${l}\n`);

/** The ids `run --shard i/n` runs: the selection (or the whole catalogue) split by runner/selection.ts. An empty shard is a usage error, never "run everything". */
async function shardSelection(scenariosDir: string, chosen: readonly string[], shard: { index: number; count: number }): Promise<string[]> {
  const [{ loadCatalogue }, { shardIds }] = await Promise.all([import('../scenario/load.js'), import('../runner/selection.js')]);
  const all = loadCatalogue(scenariosDir, chosen).map((e) => e.id);
  const ids = shardIds(all, shard);
  if (ids.length === 0) {
    throw new LabError('EUSAGE', `run: --shard ${shard.index}/${shard.count} selects no scenario: only ${all.length} scenario(s) are selected (${all.join(', ')})`, {
      detail: `remedy: use at most ${all.length} shard(s) (--shard i/${Math.max(1, all.length)}), or select more scenarios`,
    });
  }
  say(`run: shard ${shard.index}/${shard.count}: ${ids.join(', ')} (of ${all.length} selected, sorted by id and dealt round-robin)`);
  return ids;
}

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  const spec = COMMANDS.find((c) => c.name === command);
  if (!spec) throw new LabError('EUSAGE', `unknown command '${command}'`, { detail: usage() });
  // probe takes a positional HOST:PORT and parses its own flags.
  if (command === 'probe') {
    const { runProbeCommand } = await import('../enum/probe-command.js');
    return runProbeCommand(rest);
  }
  const { flags, operands } = parseCommandLine(rest, spec.flags, command, spec.operands ?? null);
  if (command === 'help' || flags.help) {
    process.stdout.write(`${usage(command === 'help' ? undefined : command)}\n`);
    return 0;
  }
  switch (command) {
    case 'run': {
      // Flags are checked before anything loads, so a usage error answers at once.
      const concurrency = withConcurrency(positiveInt(flags.concurrency as string | undefined, 'concurrency', 'run'));
      const shard = shardFlag(flags.shard as string | undefined, 'run');
      // --stack is checked here too: an unknown name is refused with the known ones before anything starts.
      const { parseStackList } = await import('../core/stacks.js');
      const stacks = parseStackList((flags.stack as string[] | undefined) ?? []);
      const profile = flags.profile as string | undefined;
      if (profile !== undefined) {
        // An unknown name is refused with the known ones before anything starts.
        const { loadProfile } = await import('../check/profiles.js');
        loadProfile(profile);
      }
      const [{ runLab }, { REPORTS_DIR, SCENARIOS_DIR }] = await Promise.all([import('../runner/run-lab.js'), paths()]);
      const scenariosDir = path.resolve((flags['scenarios-dir'] as string | undefined) ?? SCENARIOS_DIR);
      const chosen = (flags.scenario as string[] | undefined) ?? [];
      const scenarios = shard ? await shardSelection(scenariosDir, chosen, shard) : chosen;
      return runLab({
        selection: { scenariosDir, scenarios, stacks, ...(profile ? { profile } : {}) },
        reportDir: path.resolve((flags['report-dir'] as string | undefined) ?? REPORTS_DIR),
        ...concurrency,
        out: (l) => process.stdout.write(`${l}\n`),
        say,
        sayError: sayLabError,
      });
    }
    case 'check': {
      const dir = flags['postfix-config'] as string | undefined;
      if (!dir) throw new LabError('EUSAGE', 'check: --postfix-config DIR is required (the folder with your main.cf)', { detail: usage('check') });
      const [{ checkCommand }, { REPORTS_DIR }] = await Promise.all([import('./check-command.js'), paths()]);
      const stack = await oneStackFlag(flags.stack as string[] | undefined, 'check');
      return checkCommand({ dir, profile: flags.profile as string | undefined, ...(stack ? { stack } : {}), outDir: (flags.out as string | undefined) ?? REPORTS_DIR, out, say });
    }
    case 'tlsa': {
      const cert = flags.cert as string | undefined;
      if (!cert) throw new LabError('EUSAGE', 'tlsa: --cert FILE is required (the certificate, PEM)', { detail: usage('tlsa') });
      const num = (name: string, dflt: number, max: number) => {
        const v = flags[name] as string | undefined;
        if (v === undefined) return dflt;
        if (!/^\d+$/.test(v) || Number(v) > max) throw new LabError('EUSAGE', `tlsa: --${name} ${v} is not a number from 0 to ${max}`, { detail: usage('tlsa') });
        return Number(v);
      };
      const { tlsaCommand } = await import('./tlsa-command.js');
      return tlsaCommand({ cert, usage: num('usage', 3, 3), selector: num('selector', 1, 1), mtype: num('mtype', 1, 2), port: num('port', 25, 65535), host: (flags.host as string | undefined) ?? 'mx.lab.test', out });
    }
    case 'list': {
      const [{ listCommand }, { SCENARIOS_DIR }] = await Promise.all([import('./list-command.js'), paths()]);
      return listCommand({ scenariosDir: path.resolve((flags['scenarios-dir'] as string | undefined) ?? SCENARIOS_DIR), json: flags.json === true, out });
    }
    case 'explain': {
      const [{ explainCommand }, { SCENARIOS_DIR, REPORTS_DIR }] = await Promise.all([import('./explain-command.js'), paths()]);
      const report = flags.report as string | undefined;
      return explainCommand({
        id: operands[0]!,
        scenariosDir: path.resolve((flags['scenarios-dir'] as string | undefined) ?? SCENARIOS_DIR),
        report: report ? { file: path.resolve(report), given: true } : { file: path.join(REPORTS_DIR, 'latest', 'report.json'), given: false },
        out,
      });
    }
    case 'up': {
      const [{ upCommand }, { SCENARIOS_DIR }] = await Promise.all([import('./up-command.js'), paths()]);
      const stack = await oneStackFlag(flags.stack as string[] | undefined, 'up');
      return upCommand({ id: operands[0]!, scenariosDir: path.resolve((flags['scenarios-dir'] as string | undefined) ?? SCENARIOS_DIR), ...(stack ? { stack } : {}), out, say });
    }
    case 'diff': {
      const format = oneOf(flags.format as string | undefined, ['text', 'md'] as const, 'format', 'diff') ?? 'text';
      const { diffCommand } = await import('./diff-command.js');
      return diffCommand({ base: operands[0]!, head: operands[1]!, format, out });
    }
    case 'merge': {
      const [{ mergeCommand }, { REPORTS_DIR }] = await Promise.all([import('./merge-command.js'), paths()]);
      return mergeCommand({ files: operands, outDir: path.resolve((flags.out as string | undefined) ?? REPORTS_DIR), out });
    }
    case 'test': {
      await (await engine()).ensureEngine(say);
      const { runTests } = await import('../runner/run-tests.js');
      return runTests({ ...(flags.filter ? { filter: flags.filter as string } : {}), out: (l) => process.stdout.write(`${l}\n`) });
    }
    case 'clean': {
      const { countLabObjects, removeLabObjects } = await cleanup();
      await (await engine()).ensureEngine(say);
      const r = await removeLabObjects(flags.all ? 'all' : 'leftovers');
      say(`clean: removed ${r.containers} lab container(s) and ${r.networks} lab network(s)${flags.all ? '' : ' of runs no longer alive'}`);
      const kept = await countLabObjects();
      if (!flags.all && kept.containers + kept.networks > 0) say(`clean: kept ${kept.containers} container(s) and ${kept.networks} network(s) of runs in progress (--all removes them too)`);
      for (const p of r.problems) say(`clean: ${forTerminal(p)}`);
      return r.problems.length ? 2 : 0;
    }
    case 'bench': {
      const rounds = positiveInt(flags.rounds as string | undefined, 'rounds', 'bench') ?? 5;
      const { removeLabObjects } = await cleanup();
      await (await engine()).ensureEngine(say);
      process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
      const { bench } = await import('../bench/bench.js');
      try {
        await bench({ rounds, cold: !flags['skip-cold'], coldStacks: Boolean(flags['cold-stacks']), out: (l) => process.stdout.write(`${l}\n`) });
      } finally {
        await removeLabObjects('run');
      }
      return 0;
    }
    case 'soak': {
      const rounds = positiveInt(flags.rounds as string | undefined, 'rounds', 'soak') ?? 20;
      const scenarios = (flags.scenario as string[] | undefined) ?? [];
      const [{ loadCatalogue }, { SCENARIOS_DIR }] = await Promise.all([import('../scenario/load.js'), paths()]);
      loadCatalogue(SCENARIOS_DIR, scenarios);
      await (await engine()).ensureEngine(say);
      const { soak } = await import('../bench/soak.js');
      return soak({ rounds, scenarios, out: (l) => process.stdout.write(`${l}\n`) });
    }
    case 'bench-probe': {
      const rounds = positiveInt(flags.rounds as string | undefined, 'rounds', 'bench-probe') ?? 5;
      const { removeLabObjects } = await cleanup();
      await (await engine()).ensureEngine(say);
      const { benchProbe } = await import('../bench/probe-bench.js');
      try {
        await benchProbe({ rounds, out: (l) => process.stdout.write(`${l}\n`) });
      } finally {
        await removeLabObjects('run');
      }
      return 0;
    }
    case 'images': {
      await (await engine()).ensureEngine(say);
      const [{ ensureImage, recipeNames }, { parseStackList, DEFAULT_STACK }] = await Promise.all([import('../engine/images.js'), import('../core/stacks.js')]);
      const stacks = parseStackList((flags.stack as string[] | undefined) ?? []);
      const known = recipeNames();
      const asked = ((flags.image as string[] | undefined) ?? ['postfix']).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
      const names = asked.includes('all') ? known : asked.map((n) => oneOf(n, known, 'image', 'images')!);
      // Each (image, stack) is built or found on its own, so one that cannot be built does not hide the others.
      let failed = 0;
      for (const stack of stacks.length ? stacks : [DEFAULT_STACK]) {
        for (const name of names) {
          try {
            const r = await ensureImage(name, say, stack);
            process.stdout.write(`${r.name}\t${r.stack}\t${r.tag}\t${r.how}\t${r.ms} ms\n`);
          } catch (e) {
            failed += 1;
            const err = asLabError(e);
            process.stdout.write(`${name}\t${stack}\t-\terror ${err.code}: ${err.message}\n`);
            sayLabError(err);
          }
        }
      }
      return failed ? 1 : 0;
    }
  }
  return 0;
}

// Every wait in the lab is bounded by an unref'd timer, so a wait on something that can no
// longer happen (a socket gone without an event) lets the event loop empty out, and Node would
// then exit 0 with the command unfinished: a silent "success". That is a lab bug, said as one.
let finished = false;
process.on('beforeExit', () => {
  if (finished) return;
  say('smtp-tls-lab: EINTERNAL: the command stopped waiting with nothing left to wait for (a bug in the lab); no result');
  process.exit(2);
});

main(process.argv.slice(2)).then(
  (code) => {
    finished = true;
    process.exit(code);
  },
  (err) => {
    finished = true;
    const e = asLabError(err);
    sayLabError(e);
    if (e.code === 'EINTERNAL' && err instanceof Error && err.stack) say(err.stack);
    process.exit(2);
  },
);
