import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { countLabObjects } from '../../engine/cleanup.js';
import { childRunEnv } from '../../engine/labels.js';
import { withTimeout } from '../../core/timeouts.js';
import { childRunsInTurn } from './child-runs.js';

/**
 * `smtp-tls-lab up smtps-465` as a learner runs it: the built CLI as a child process (its own
 * process group, as in a terminal), the printed commands run for real against the scenario's
 * Postfix, then Ctrl-C (SIGINT to the group): exit 130 and nothing of that run left.
 */
const CLI = path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs');

function exited(child: ChildProcess): Promise<number | null> {
  return withTimeout(`up ${child.pid} exits after the signal`, 90_000, new Promise((resolve) => child.once('exit', (code) => resolve(code))));
}

/** Resolves with stdout once a line matches; rejects when the child exits first. */
function printed(child: ChildProcess, text: { stdout: string; stderr: string }, line: RegExp): Promise<string> {
  return withTimeout(
    `up prints ${line}`,
    240_000,
    new Promise<string>((resolve, reject) => {
      const check = () => (line.test(text.stdout) ? resolve(text.stdout) : undefined);
      child.stdout!.on('data', check);
      child.once('exit', (code) => reject(new Error(`up exited ${code} before printing ${line}:\n${text.stdout}\n${text.stderr}`)));
    }),
  );
}

/**
 * Runs a printed command as a learner types into it: each step waits until the output shows
 * `until`, then types `type`; stdin is closed after the last step (s_client exits at end of input).
 */
function dialogue(command: string, steps: readonly { readonly until: RegExp; readonly type: string }[]): Promise<string> {
  const child = spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let step = 0;
  const next = () => {
    while (step < steps.length && steps[step]!.until.test(out)) child.stdin.write(steps[step++]!.type);
    if (step === steps.length) child.stdin.end();
  };
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    next();
  });
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  next();
  return withTimeout(`${command} answers ${steps.map((s) => s.until).join(', ')}`, 30_000, new Promise<string>((resolve) => child.once('exit', () => resolve(out)))).finally(() => child.kill());
}

const EHLO_DIALOGUE = [
  { until: /^220 mx\.lab\.test ESMTP/m, type: 'EHLO client.lab.test\n' },
  { until: /^250-mx\.lab\.test$[\s\S]*^250 /m, type: 'QUIT\n' },
  { until: /^221 /m, type: '' },
];

/** The `$ …` command lines of a section (the lines after its header, up to the next blank line). */
function commandsOf(stdout: string, header: RegExp): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => header.test(l));
  expect(start, `no section ${header} in:\n${stdout}`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start + 1, end).filter((l) => l.trimStart().startsWith('$ ')).map((l) => l.trimStart().slice(2));
}

/** `up ID` as a child in its own process group (as in a terminal), with a run id of its own. */
function startUp(id: string): { runId: string; child: ChildProcess; text: { stdout: string; stderr: string } } {
  const runId = `up-${process.pid}-${Date.now().toString(36)}`;
  const child = spawn(process.execPath, [CLI, 'up', id], { env: childRunEnv({ SMTP_TLS_LAB_RUN_ID: runId }), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const text = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => (text.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text.stderr += d.toString()));
  return { runId, child, text };
}

/** After a failed assertion: stop it as Ctrl-C would, so that it removes what it made; kill it only if that fails. */
async function stopIfRunning(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  process.kill(-child.pid!, 'SIGINT');
  await exited(child).catch(() => process.kill(-child.pid!, 'SIGKILL'));
}

describe('smtp-tls-lab up ID', () => {
  it('up smtps-465: the printed s_client commands really handshake; Ctrl-C exits 130 and removes every container and network of the run', () => childRunsInTurn(async () => {
    const { runId, child, text } = startUp('smtps-465');
    try {
      const stdout = await printed(child, text, /^up: smtps-465 is up; Ctrl-C stops it/m);
      expect((await countLabObjects({ run: runId })).containers).toBe(2); // mx and the client container

      // smtps (implicit TLS) from this host, verified against the lab CA, exactly as printed.
      const smtps = commandsOf(stdout, /^smtps \(port 465, implicit TLS\):$/);
      expect(smtps[0]).toMatch(/^openssl s_client -crlf -connect \d+\.\d+\.\d+\.\d+:465$/);
      const verifying = smtps.find((c) => c.includes('-CAfile') && c.startsWith('openssl '))!;
      const host = await dialogue(verifying, EHLO_DIALOGUE);
      expect(host).toMatch(/^New, TLSv1\.3, Cipher is TLS_AES_256_GCM_SHA384$/m);
      expect(host).toMatch(/^Verify return code: 0 \(ok\)$/m);
      // Wrapper mode: the 220 greeting comes inside TLS, and the EHLO reply under TLS offers no STARTTLS.
      expect(host).toMatch(/^250-AUTH PLAIN LOGIN$/m);
      expect(host).not.toMatch(/STARTTLS/);

      // smtp (STARTTLS) through the lab client container: the printed line, with -i for -it (this test has no terminal).
      const smtp = commandsOf(stdout, /^smtp \(port 25, STARTTLS\):$/);
      const inClient = smtp.find((c) => c.startsWith('docker exec -it '))!;
      expect(inClient).toMatch(/openssl s_client -starttls smtp -crlf -connect mx\.lab\.test:25 -CAfile \/tmp\/lab-ca\.crt -verify_hostname mx\.lab\.test$/);
      // s_client swallows the plaintext 220 and EHLO with -starttls; what it shows comes inside TLS, EHLO typed by hand.
      const viaClient = await dialogue(inClient.replace('docker exec -it ', 'docker exec -i '), [
        { until: /^Verify return code: /m, type: 'EHLO client.lab.test\n' },
        // (s_client prints the last line of the plaintext EHLO reply, "250 CHUNKING", before the handshake.)
        { until: /^250-mx\.lab\.test$[\s\S]*^250 /m, type: 'QUIT\n' },
        { until: /^221 /m, type: '' },
      ]);
      expect(viaClient).toMatch(/^New, TLSv1\.3, Cipher is /m);
      expect(viaClient).toMatch(/^Verify return code: 0 \(ok\)$/m);
      expect(viaClient, viaClient).toMatch(/^250-mx\.lab\.test$/m);

      process.kill(-child.pid!, 'SIGINT');
      expect(await exited(child)).toBe(130);
      expect(text.stderr).toMatch(/up: SIGINT: stopping smtps-465/);
      expect(text.stderr).toMatch(/up: smtps-465 stopped; its containers and networks are removed/);
      expect(await countLabObjects({ run: runId })).toEqual({ containers: 0, networks: 0 });
      console.log(`up smtps-465 (first lines):\n${stdout.split('\n').slice(0, 12).join('\n')}`);
    } finally {
      await stopIfRunning(child);
    }
  }), 600_000);

  it('up outbound-may: the printed sendmail line delivers through the sender to the STARTTLS peer, its connection printed and recorded; SIGTERM exits 143 with nothing left', () => childRunsInTurn(async () => {
    const { runId, child, text } = startUp('outbound-may');
    try {
      const stdout = await printed(child, text, /^up: outbound-may is up; Ctrl-C stops it/m);
      expect(stdout).not.toMatch(/docker exec -it /); // no client node in this scenario
      const [sendmail] = commandsOf(stdout, /^Outbound: inject a message into the sender/);
      expect(sendmail).toMatch(/^printf 'Subject: up test\\n\\nhello\\n' \| docker exec -i [0-9a-f]{12} sendmail -i -f lab-sender@lab\.test user@starttls\.peer\.test$/);
      const peerLog = /appended to (\S+peer-starttls-peer\.jsonl)$/m.exec(stdout)?.[1];
      expect(peerLog, stdout).toBeDefined();
      const sent = await dialogue(sendmail!, []);
      expect(sent).toBe('');
      const line = await printed(child, text, /^peer starttls-peer: connection \d+ from .*: EHLO sender\.lab\.test, TLSv1\.3 \S+, 1 message\(s\) \[to user@starttls\.peer\.test, over TLS\]$/m);
      const recorded = fs.readFileSync(peerLog!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { ehlo: string; tls: { protocol: string } | null; clientHello: { versions: string[] } | null });
      expect(recorded).toHaveLength(1);
      expect(recorded[0]).toMatchObject({ ehlo: 'sender.lab.test', tls: { protocol: 'TLSv1.3' } });
      expect(recorded[0]!.clientHello?.versions).toContain('TLSv1.3');

      process.kill(child.pid!, 'SIGTERM');
      expect(await exited(child)).toBe(143);
      expect(text.stderr).toMatch(/up: SIGTERM: stopping outbound-may/);
      expect(await countLabObjects({ run: runId })).toEqual({ containers: 0, networks: 0 });
      expect(fs.existsSync(peerLog!)).toBe(false); // the peer records go with the lab
      console.log(`up outbound-may: ${line.split('\n').find((l) => l.startsWith('peer starttls-peer:'))}`);
    } finally {
      await stopIfRunning(child);
    }
  }), 600_000);
});
