import type { FlagSpec, OperandSpec } from './args.js';

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  /** Arguments that are not flags (files, a scenario id), when the command takes any. */
  readonly operands?: OperandSpec;
  readonly flags: readonly FlagSpec[];
}

/** Every command and flag of the CLI; `help` prints this and the README documents it. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'run',
    summary: 'Run the scenario catalogue against real Postfix and write its reports into reports/<run-id>/ and reports/latest/ (npm run lab).',
    flags: [
      { name: 'scenario', value: 'ID[,ID…]', repeat: true, help: 'run only these scenarios (repeatable)' },
      { name: 'scenarios-dir', value: 'DIR', help: 'read scenarios from DIR instead of scenarios/' },
      { name: 'report-dir', value: 'DIR', help: 'write the reports under DIR instead of reports/ (DIR/<run-id>/ and DIR/latest/: report.json, junit.xml, summary.md, index.html)' },
      { name: 'concurrency', value: 'N', help: 'scenarios running at once (default 3)' },
      { name: 'shard', value: 'i/n', help: 'run only shard i of n: the selected ids sorted, every n-th from the i-th (join the reports with merge)' },
      { name: 'stack', value: 'NAME[,NAME…]', repeat: true, help: 'run on these stacks (bullseye, bookworm, trixie, sid, or all); each (scenario, stack) is one entry of the report (default: bookworm, or the first stack a scenario names)' },
      { name: 'profile', value: 'NAME', help: "also judge each scenario's smtpd services by a profile's rules (ncsc-nl, mozilla-intermediate, mozilla-modern, seed-000), as check does" },
      { name: 'help', value: null, help: 'show this help' },
    ],
  },
  {
    name: 'check',
    summary: "Check your own Postfix config: DIR's main.cf/master.cf/maps run in the lab (certificate paths, log and mail routing overlaid, printed), every smtpd service judged by port and by a profile.",
    flags: [
      { name: 'postfix-config', value: 'DIR', help: 'the folder holding your main.cf (required), master.cf and the map files it names' },
      { name: 'profile', value: 'NAME', help: 'ncsc-nl (default), mozilla-intermediate, mozilla-modern, seed-000 (harness/profiles/)' },
      { name: 'out', value: 'DIR', help: 'write the report under DIR instead of reports/ (DIR/latest/: report.json, junit.xml, summary.md, index.html, overlay.json)' },
      { name: 'stack', value: 'NAME', repeat: true, help: 'run your config on this stack (bullseye, bookworm, trixie, sid; default: bookworm); its image is built if missing' },
      { name: 'help', value: null, help: 'show this help' },
    ],
  },
  {
    name: 'tlsa',
    summary: 'Print the TLSA record (RFC 6698) of a certificate, as the lab\'s DNS zones publish it (default 3 1 1: DANE-EE, public key, SHA-256).',
    flags: [
      { name: 'cert', value: 'FILE', help: 'PEM file; its first certificate is used (a CA certificate for usage 2)' },
      { name: 'usage', value: 'N', help: 'certificate usage 0-3 (default 3, DANE-EE; 2 is DANE-TA)' },
      { name: 'selector', value: 'N', help: '0 the whole certificate, 1 its public key (default 1)' },
      { name: 'mtype', value: 'N', help: 'matching type: 0 exact, 1 SHA-256 (default), 2 SHA-512' },
      { name: 'port', value: 'N', help: 'TCP port of the owner name _PORT._tcp.HOST (default 25)' },
      { name: 'host', value: 'NAME', help: 'host of the owner name (default mx.lab.test)' },
      { name: 'help', value: null, help: 'show this help' },
    ],
  },
  {
    name: 'list',
    summary: 'List the scenarios: id, title, seeds, the ports their checks use, check count; a broken scenario is listed with its error (exit 2).',
    flags: [
      { name: 'scenarios-dir', value: 'DIR', help: 'read scenarios from DIR instead of scenarios/' },
      { name: 'json', value: null, help: 'print a JSON array instead of lines' },
      { name: 'help', value: null, help: 'show this help' },
    ],
  },
  {
    name: 'explain',
    summary: "A scenario's story: settings it teaches, its checks, its break-it exercises and, from a report, transcripts, handshakes and Postfix's log lines.",
    operands: { usage: 'ID', min: 1, max: 1 },
    flags: [
      { name: 'scenarios-dir', value: 'DIR', help: 'read scenarios from DIR instead of scenarios/' },
      { name: 'report', value: 'FILE', help: 'the run to show (default reports/latest/report.json when it exists)' },
      { name: 'help', value: null, help: 'show this help' },
    ],
  },
  {
    name: 'up',
    summary: "Start one scenario's containers and keep them until Ctrl-C, printing the commands to try: openssl s_client from this host and the lab client container per smtpd service, sendmail into an outbound sender, where the peers' records are.",
    operands: { usage: 'ID', min: 1, max: 1 },
    flags: [
      { name: 'scenarios-dir', value: 'DIR', help: 'read the scenario from DIR instead of scenarios/' },
      { name: 'stack', value: 'NAME', repeat: true, help: 'start the lab on this stack (bullseye, bookworm, trixie, sid; default: the first stack the scenario names, else bookworm)' },
      { name: 'help', value: null, help: 'show this help' },
    ],
  },
  {
    name: 'diff',
    summary: 'What changed between two report.json files, per scenario, port and check; a regression makes the exit 1, a file that is not a report 2.',
    operands: { usage: 'BASE.json HEAD.json', min: 2, max: 2 },
    flags: [
      { name: 'format', value: 'text|md', help: 'text (default) or md: a markdown table for a PR comment' },
      { name: 'help', value: null, help: 'show this help' },
    ],
  },
  {
    name: 'merge',
    summary: "Join the reports of run --shard jobs into one report (counts and exit code recomputed); the exit code is the merged run's.",
    operands: { usage: 'REPORT.json…', min: 1, max: Infinity },
    flags: [
      { name: 'out', value: 'DIR', help: 'write DIR/latest/report.json (default reports/; the report before moves to previous/)' },
      { name: 'help', value: null, help: 'show this help' },
    ],
  },
  {
    name: 'test',
    summary: "Run the lab's own test suite: parser unit tests and the catalogue as vitest tests (npm test).",
    flags: [
      { name: 'filter', value: 'PATTERN', help: 'only test files whose path contains PATTERN' },
      { name: 'help', value: null, help: 'show this help' },
    ],
  },
  {
    name: 'clean',
    summary: 'Remove lab containers and networks left by runs that are no longer alive (only objects labelled org.smtp-tls-lab); runs in progress keep theirs.',
    flags: [
      { name: 'all', value: null, help: 'also remove the objects of runs still in progress (they will fail)' },
      { name: 'help', value: null, help: 'show this help' },
    ],
  },
  {
    name: 'images',
    summary: 'Build the lab images if their recipes changed, and print their tags (default: postfix on bookworm).',
    flags: [
      { name: 'image', value: 'NAME[,NAME…]', repeat: true, help: 'the recipes of containers/ to build (postfix, exim, opensmtpd, or all; default: postfix)' },
      { name: 'stack', value: 'NAME[,NAME…]', repeat: true, help: 'build them on these stacks (bullseye, bookworm, trixie, sid, or all; default: bookworm)' },
      { name: 'help', value: null, help: 'show this help' },
    ],
  },
  {
    name: 'probe',
    summary: 'Enumerate the TLS surface of one SMTP endpoint you own: protocols, ciphers per protocol, order, groups, certificate, features.',
    flags: [
      { name: 'starttls', value: null, help: 'HOST:PORT speaks SMTP and upgrades with STARTTLS (default for 25 and 587)' },
      { name: 'implicit', value: null, help: 'TLS from the first byte, as on 465 (default for 465)' },
      { name: 'plain', value: null, help: 'plain TLS, no SMTP at all' },
      { name: 'json', value: 'FILE', help: 'also write the result as JSON (schema smtp-tls-lab/probe@2)' },
      { name: 'concurrency', value: 'N', help: 'handshake attempts at once (default 8)' },
      { name: 'timeout', value: 'MS', help: 'bound for each wait (connect, banner, reply, server answer)' },
      { name: 'scope', value: 'S', help: 'full (default) or enumeration (protocols, suites, order, groups only)' },
      { name: 'ehlo', value: 'NAME', help: 'EHLO name (default probe.lab.test)' },
      { name: 'sni', value: 'NAME', help: 'server name to send (default none)' },
      { name: 'help', value: null, help: 'show this help' },
    ],
  },
  {
    name: 'bench-probe',
    summary: 'probe vs sslscan vs testssl.sh on one lab container, alternating: medians, ratios, connections (npm run bench:probe).',
    flags: [
      { name: 'rounds', value: 'N', help: 'rounds (default 5; testssl.sh runs at most 2)' },
      { name: 'help', value: null, help: 'show this help' },
    ],
  },
  {
    name: 'soak',
    summary: 'Run the catalogue N times and print, per check, how many rounds it passed; flaky checks and leftovers make it exit 1 (npm run soak).',
    flags: [
      { name: 'rounds', value: 'N', help: 'rounds (default 20)' },
      { name: 'scenario', value: 'ID[,ID…]', repeat: true, help: 'soak only these scenarios' },
      { name: 'help', value: null, help: 'show this help' },
    ],
  },
  {
    name: 'bench',
    summary: 'Print speed figures (medians) beside their goals: CLI start, cold base build, cached image check per stack, start to ready, one handshake, a whole scenario, one scenario on every stack, the catalogues (npm run bench).',
    flags: [
      { name: 'rounds', value: 'N', help: 'rounds per figure (default 5)' },
      { name: 'skip-cold', value: null, help: 'skip the cold base-image build (about a minute)' },
      { name: 'cold-stacks', value: null, help: 'also build every stack\'s base cold, one after another (several minutes)' },
      { name: 'help', value: null, help: 'show this help' },
    ],
  },
  {
    name: 'help',
    summary: 'Show commands and flags.',
    flags: [],
  },
];

export function usage(only?: string): string {
  const lines = ['usage: smtp-tls-lab <command> [flags]   (probe: smtp-tls-lab probe HOST:PORT [flags])', ''];
  for (const c of COMMANDS.filter((c) => !only || c.name === only)) {
    if (c.operands) lines.push(`  ${c.name} ${c.operands.usage}`, `  ${''.padEnd(8)} ${c.summary}`);
    else lines.push(`  ${c.name.padEnd(8)} ${c.summary}`);
    for (const f of c.flags) lines.push(`      --${f.name}${f.value ? ` ${f.value}` : ''}`.padEnd(34) + f.help);
  }
  lines.push('', 'Exit codes: 0 all checks passed, 1 a check failed, 2 the lab could not give every verdict (infrastructure, usage).');
  lines.push('  check: 0 every rule held on every port, 1 a rule failed, 2 the lab could not judge every rule (no main.cf, unknown profile, a map missing, Postfix refused the config).');
  lines.push('  diff: 0 no regression, 1 a regression, 2 a file is not a report. list, explain: 0, or 2 for a broken scenario. merge: the merged run\'s.');
  lines.push('  up: 130 after Ctrl-C, 143 after SIGTERM (containers and networks removed), 2 when the scenario could not start.');
  return lines.join('\n');
}
