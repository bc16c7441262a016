import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabError, asLabError } from '../core/errors.js';
import { forTerminal } from '../core/escape.js';
import { ensureEngine } from '../engine/engine.js';
import { ensureImage } from '../engine/images.js';
import { removeLabObjects, removeRunObjectsSync } from '../engine/cleanup.js';
import { ScenarioSession } from '../lab/scenario-session.js';
import type { LabClientContainer } from '../lab/client-container.js';
import type { StartedSmtpPeer } from '../peer/smtp-peer.js';
import type { PeerConnection, PeerRecord } from '../peer/peer-record.js';
import { loadCatalogue } from '../scenario/load.js';
import { readStackVersions } from '../lab/stack-versions.js';
import { DEFAULT_STACK, type StackName } from '../core/stacks.js';

/**
 * `smtp-tls-lab up ID`: one scenario's lab, started as a run starts it (ScenarioSession), kept
 * until Ctrl-C (SIGINT) or SIGTERM, with the commands a learner can type against it printed:
 * openssl s_client from this host and from the lab client container for every smtpd service,
 * and for an outbound scenario how to inject a message into the sender and where each
 * receiving node's record is. Exit 130/143 after the containers and networks are removed, as
 * for an interrupted run.
 */

/** The facts the guide is printed from: an immutable record, kept apart from its rendering. */
export interface UpFacts {
  readonly scenario: { readonly id: string; readonly title: string };
  /** The stack the lab runs on, with the versions read from its Postfix container. */
  readonly stack?: { readonly name: string; readonly postfix: string | null; readonly openssl: string | null };
  readonly postfix: { readonly node: string; readonly id: string; readonly address: string; readonly hostname: string };
  readonly services: readonly { readonly service: string; readonly port: number; readonly mode: 'implicit' | 'starttls' }[];
  /** The lab CA's certificate on this host (the scenario's certificate folder). */
  readonly caFile: string;
  /** The lab client container, with the lab CA copied to `caFile` inside it; null when the scenario has no client node. */
  readonly client: { readonly id: string; readonly caFile: string } | null;
  /** Outbound: what the scenario's delivery checks send (sender and recipients), for a sendmail line. */
  readonly outbound: { readonly from: string; readonly recipients: readonly string[] } | null;
  /** Receiving nodes: capturing peers on this host (their record written to `logFile`), or other lab Postfix containers. */
  readonly receivers: readonly ({ readonly kind: 'smtp-peer'; readonly node: string; readonly address: string; readonly port: number; readonly logFile: string } | { readonly kind: 'postfix'; readonly node: string; readonly id: string })[];
}

const CLIENT_CA = '/tmp/lab-ca.crt';
const EHLO = 'client.lab.test';

/** What a learner types: one `$ …` line per command (tests pick them out by that prefix). */
export function upGuide(f: UpFacts): string[] {
  const lines = [
    `up: ${f.scenario.id}: ${f.scenario.title}`,
    `  Postfix under test: node ${f.postfix.node} (${f.postfix.hostname}), container ${f.postfix.id.slice(0, 12)}, address ${f.postfix.address}`,
    ...(f.stack ? [`  stack ${f.stack.name}: Postfix ${f.stack.postfix ?? '(not read)'}, ${f.stack.openssl ?? 'OpenSSL (not read)'} (read from the container; the lab client container is the same image)`] : []),
    '',
  ];
  for (const s of f.services) {
    const starttls = s.mode === 'starttls' ? ' -starttls smtp' : '';
    lines.push(`${s.service} (port ${s.port}, ${s.mode === 'starttls' ? 'STARTTLS' : 'implicit TLS'}):`);
    lines.push('  from this host (seed 003\'s manual check):');
    lines.push(`  $ openssl s_client${starttls} -crlf -connect ${f.postfix.address}:${s.port}`);
    lines.push('  the same, verifying the certificate against the lab CA:');
    lines.push(`  $ openssl s_client${starttls} -crlf -connect ${f.postfix.address}:${s.port} -CAfile ${f.caFile} -verify_hostname ${f.postfix.hostname}`);
    if (f.client) {
      lines.push('  from the lab client container (the lab image\'s OpenSSL, by the lab hostname):');
      lines.push(`  $ docker exec -it ${f.client.id.slice(0, 12)} openssl s_client${starttls} -crlf -connect ${f.postfix.hostname}:${s.port} -CAfile ${f.client.caFile} -verify_hostname ${f.postfix.hostname}`);
    }
    lines.push(`  then type: EHLO ${EHLO}   (the capabilities under TLS${s.mode === 'starttls' ? '; s_client sent the first EHLO and STARTTLS itself' : ''}), then QUIT`);
    lines.push('');
  }
  const id = f.postfix.id.slice(0, 12);
  lines.push('Postfix under test:');
  lines.push(`  $ docker logs -f ${id}                    (its log: every TLS summary line, warnings)`);
  lines.push(`  $ docker exec ${id} postconf -n           (the effective main.cf)`);
  if (f.outbound) {
    const [first, ...others] = f.outbound.recipients;
    lines.push('', 'Outbound: inject a message into the sender and watch what its smtp(8) client does:');
    lines.push(`  $ printf 'Subject: up test\\n\\nhello\\n' | docker exec -i ${id} sendmail -i -f ${f.outbound.from} ${first}`);
    if (others.length) lines.push(`  other recipients the scenario's checks use (each domain routed to its own transport or peer): ${others.join(' ')}`);
    lines.push(`  $ docker exec ${id} postqueue -p           (what waits in the queue: deferred messages)`);
    lines.push(`  $ docker exec ${id} postqueue -f           (retry now)`);
  }
  for (const r of f.receivers) {
    if (r.kind === 'smtp-peer') lines.push(`  receiving peer ${r.node} at ${r.address}:${r.port} (on this host): each connection is printed here and appended to ${r.logFile}`);
    else lines.push(`  receiving Postfix ${r.node}: $ docker logs -f ${r.id.slice(0, 12)}`);
  }
  lines.push('', `up: ${f.scenario.id} is up; Ctrl-C stops it and removes its containers and networks`);
  return lines;
}

/** One line for a peer connection that has ended. */
export function peerConnectionLine(node: string, c: PeerConnection): string {
  const tls = c.tls ? `${c.tls.protocol ?? '?'} ${c.tls.cipher ?? '?'}${c.tls.sni ? ` SNI ${c.tls.sni}` : ''}${c.tls.resumed ? ' resumed' : ''}` : c.handshakeError ? `handshake failed: ${c.handshakeError}` : c.starttls ? 'STARTTLS without a handshake' : 'plaintext';
  return `peer ${node}: connection ${c.index} from ${c.remoteAddress ?? '?'}: ${c.greeting ? `${c.greeting} ${c.ehlo ?? ''}`.trim() : 'no greeting'}, ${tls}, ${c.messages.length} message(s)${c.messages.map((m) => ` [to ${m.rcptTo.join(', ')}${m.overTls ? ', over TLS' : ''}]`).join('')}`;
}

/** Follows a peer's record: each connection, once closed, is printed and appended to the file as a JSON line. Ends when `stopped` is set. */
async function followPeer(peer: StartedSmtpPeer, file: string, out: (l: string) => void, stopped: () => boolean): Promise<void> {
  let written = 0;
  const closed = (r: PeerRecord) => r.connections.filter((c) => c.closed).length;
  while (!stopped()) {
    const r = await peer.waitFor(`peer ${peer.node.name}: next closed connection`, (x) => closed(x) > written || stopped(), 60_000).catch(() => null);
    if (!r || stopped()) continue;
    for (const c of r.connections.filter((x) => x.closed).slice(written)) {
      fs.appendFileSync(file, `${JSON.stringify(c)}\n`);
      out(forTerminal(peerConnectionLine(peer.node.name, c), 2000));
    }
    written = closed(r);
  }
}

export interface UpOptions {
  readonly id: string;
  readonly scenariosDir: string;
  /** `--stack`: the stack to start it on (default: the first stack the scenario names, else bookworm). */
  readonly stack?: StackName;
  readonly out: (line: string) => void;
  readonly say: (line: string) => void;
}

const EXIT_BY_SIGNAL: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

export async function upCommand(o: UpOptions): Promise<number> {
  const entry = loadCatalogue(o.scenariosDir, [o.id])[0]!;
  if (entry.error) throw entry.error;
  const scenario = entry.scenario;
  // As a run chooses: the stack asked for, which the scenario must accept, else its first, else the default.
  const needs = scenario.stacks ?? [];
  if (o.stack && needs.length && !needs.includes(o.stack)) throw new LabError('EUSAGE', `up: scenario ${scenario.id} runs on ${needs.join(', ')} only ("stacks" in its scenario.json), not on ${o.stack}`);
  const stack = o.stack ?? needs[0] ?? DEFAULT_STACK;

  // Signals are taken from here on: a stop during the start waits for it to settle, then stops.
  let signal: NodeJS.Signals | null = null;
  let wake: () => void = () => {};
  const signalled = new Promise<void>((resolve) => (wake = resolve));
  const onSignal = (sig: NodeJS.Signals) => {
    if (signal) {
      // A second Ctrl-C: leave now; the exit hook below still removes this run's containers.
      o.say(`up: ${sig} again: leaving without waiting`);
      process.exit(EXIT_BY_SIGNAL[sig] ?? 2);
    }
    signal = sig;
    o.say(`\nup: ${sig}: stopping ${scenario.id} and removing its containers`);
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // However the process ends, this run's containers and networks go (synchronously: the one hook that always runs).
  process.once('exit', () => removeRunObjectsSync());
  // The lab's waits are unref'd timers; waiting for a signal must keep the process alive.
  const keepAlive = setInterval(() => {}, 1 << 30);

  let session: ScenarioSession | null = null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `smtp-tls-lab-up-${scenario.id}-`));
  let stopped = false;
  const followers: Promise<void>[] = [];
  try {
    await ensureEngine(o.say);
    const left = await removeLabObjects('leftovers');
    if (left.containers || left.networks) o.say(`up: removed leftovers of an earlier, killed run: ${left.containers} container(s), ${left.networks} network(s)`);
    const image = (await ensureImage('postfix', (l) => o.say(stack === DEFAULT_STACK ? `up: ${l}` : `up [${stack}]: ${l}`), stack)).tag;
    if (signal) return EXIT_BY_SIGNAL[signal]!;
    o.say(`up: starting ${scenario.id}${stack === DEFAULT_STACK ? '' : ` on stack ${stack}`} …`);
    session = await ScenarioSession.start(scenario, image, stack);
    if (signal) return EXIT_BY_SIGNAL[signal]!;

    const topology = session.topology;
    let client: LabClientContainer | null = null;
    if (topology.firstOfKind('client')) {
      client = await session.clientContainer();
      await client.putFile(CLIENT_CA, session.certs.pki.trustBundle, 0o644);
    }
    const receivers: UpFacts['receivers'][number][] = [];
    for (const n of topology.nodes) {
      if (n.kind === 'smtp-peer') {
        const peer = await session.node(n.name, 'smtp-peer');
        const logFile = path.join(dir, `peer-${n.name}.jsonl`);
        fs.writeFileSync(logFile, '');
        receivers.push({ kind: 'smtp-peer', node: n.name, address: peer.address, port: peer.spec.port, logFile });
        followers.push(followPeer(peer, logFile, o.out, () => stopped));
      } else if (n.kind === 'postfix' && n.name !== session.postfix.node.name) {
        receivers.push({ kind: 'postfix', node: n.name, id: (await session.node(n.name, 'postfix')).getId() });
      }
    }
    const deliveries = scenario.checks.flatMap((c) => (c.kind === 'delivery' ? [c.send] : []));
    const recipients = [...new Set(deliveries.flatMap((s) => s.to))];
    const facts: UpFacts = {
      scenario: { id: scenario.id, title: scenario.title },
      stack: { name: stack, ...(await readStackVersions(session.postfix)) },
      postfix: { node: session.postfix.node.name, id: session.postfix.getId(), address: session.postfix.address, hostname: session.postfix.node.hostnames[0] ?? session.postfix.address },
      services: session.postfix.services.map((s) => ({ ...s, mode: session!.serviceMode(s.service) })),
      caFile: path.join(session.certs.dir, 'lab-ca.crt'),
      client: client ? { id: client.getId(), caFile: CLIENT_CA } : null,
      outbound: recipients.length ? { from: deliveries[0]!.from, recipients } : null,
      receivers,
    };
    if (!fs.existsSync(facts.caFile)) throw new LabError('EINTERNAL', `up: the lab CA file ${facts.caFile} is missing from the scenario's certificates`);
    for (const l of upGuide(facts)) o.out(l);
    await signalled;
    return EXIT_BY_SIGNAL[signal!]!;
  } catch (err) {
    if (signal) return EXIT_BY_SIGNAL[signal]!;
    throw asLabError(err);
  } finally {
    stopped = true;
    clearInterval(keepAlive);
    const problems = session ? await session.stop() : [];
    const swept = await removeLabObjects('run');
    for (const p of [...problems, ...swept.problems]) o.say(`up: ${forTerminal(p)}`);
    fs.rmSync(dir, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (signal) o.say(`up: ${scenario.id} stopped; its containers and networks are removed`);
    // The peer followers end at their next wake-up (stopped is set); nothing waits for them.
    void Promise.allSettled(followers);
  }
}
