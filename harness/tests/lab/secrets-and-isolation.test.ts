import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT, SCENARIOS_DIR } from '../../engine/paths.js';
import { childRunEnv } from '../../engine/labels.js';
import { ScenarioSession } from '../../lab/scenario-session.js';
import { loadScenario } from '../../scenario/load.js';
import { useScenarioSession } from './scenario-fixture.js';
import { childRunsInTurn } from './child-runs.js';
import { runRawClient } from '../../smtp/raw-client.js';

const CLI = path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs');

describe('no secret reaches a report', () => {
  it('a full run of the whole catalogue: no key material and no credential in its report or its output', () => childRunsInTurn(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-secrets-'));
    try {
      const r = spawnSync(process.execPath, [CLI, 'run', '--report-dir', dir], { env: childRunEnv(), encoding: 'utf8', timeout: 600_000 });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const reportText = fs.readFileSync(path.join(dir, 'latest', 'report.json'), 'utf8');
      // The run's own output is a log too: scanned with the report.
      const text = `${reportText}\n${r.stdout}\n${r.stderr}`;
      expect(text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
      expect(text).not.toMatch(/Master-Key: [0-9A-F]{16,}/);
      // AUTH lines carry no token, and the lines answering a 334 challenge are redacted.
      expect(text).not.toMatch(/AUTH (PLAIN|LOGIN) (?!<redacted>)[A-Za-z0-9+/=]{8,}/);
      const report = JSON.parse(reportText) as { scenarios: { checks: { observations: { transcript: { dir: string; text: string }[] }[] }[] }[] };
      for (const s of report.scenarios) {
        for (const c of s.checks) {
          for (const o of c.observations) {
            o.transcript.forEach((line, i) => {
              const prev = o.transcript.slice(0, i).reverse().find((l) => l.dir === 'S');
              if (line.dir === 'C' && prev && /^334[ -]/.test(prev.text)) expect(line.text).toBe('<redacted>');
            });
          }
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }), 900_000);
});

describe('keys and passwords: per run, 0600, read-only in the container, removed after', () => {
  it('submission-587 (server key, SASL users): modes, the read-only mount, and nothing left on disk after stop', async () => {
    const session = await ScenarioSession.start(loadScenario(path.join(SCENARIOS_DIR, 'submission-587')), inject('postfixImage'));
    const dir = session.certs.dir;
    try {
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      const secrets = fs.readdirSync(dir).filter((f) => f.endsWith('.key') || f === 'sasl-users');
      expect(secrets).toEqual(expect.arrayContaining(['server.key', 'sasl-users']));
      for (const f of secrets) expect([f, fs.statSync(path.join(dir, f)).mode & 0o777]).toEqual([f, 0o600]);
      const mounts = JSON.parse(spawnSync('docker', ['inspect', '--format', '{{json .Mounts}}', session.postfix.getId()], { encoding: 'utf8' }).stdout) as { Source: string; Destination: string; RW: boolean }[];
      expect(mounts.find((m) => m.Source === dir)).toMatchObject({ Destination: '/etc/postfix/lab/tls', RW: false });
      const write = await session.postfix.exec(['sh', '-c', 'echo x > /etc/postfix/lab/tls/server.key 2>&1; echo "exit=$?"']);
      expect(write.output).toMatch(/Read-only file system/);
    } finally {
      expect(await session.stop()).toEqual([]);
    }
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('isolation, checked without sending a packet outward', () => {
  const lab = useScenarioSession('opportunistic-25');

  it('the egress guard is installed: DOCKER-USER drops forwarding from docker bridges to anything else', () => {
    for (const rule of ['-i docker0 -o docker0 -j RETURN', '-i br-+ -o br-+ -j RETURN', '-i docker0 -j DROP', '-i br-+ -j DROP']) {
      const r = spawnSync('iptables', ['-C', 'DOCKER-USER', ...rule.split(' ')], { encoding: 'utf8' });
      expect(r.status, `iptables -C DOCKER-USER ${rule}: ${r.stderr}`).toBe(0);
    }
  });

  // The resolver (only 127.0.0.1, an outside name resolves to nothing) is checked for Postfix
  // and the client container in egress.test.ts.

  it('mail for an outside domain is bounced inside the lab, never sent out', async () => {
    const session = lab();
    const ep = session.postfix.endpoint('smtp');
    // From inside mynetworks (the container itself), Postfix accepts relaying; the lab guard then bounces.
    const r = spawnSync('docker', ['exec', lab().postfix.getId(), 'sh', '-c', 'printf "Subject: out\\n\\nx\\n" | sendmail -f lab@lab.test someone@example.net'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const ev = await session.postfix.log.waitFor('delivery to someone@example.net', (e) => e.type === 'delivery' && e.to === 'someone@example.net', 20_000);
    expect(ev).toMatchObject({ status: 'bounced', relay: 'none', reason: expect.stringMatching(/delivery outside the lab is disabled/) });
    // And from outside mynetworks it is not even accepted.
    const { observation } = await runRawClient({ host: ep.host, port: ep.port, mode: 'starttls', message: { from: 'a@client.lab.test', to: ['someone@example.net'], data: 'x' } });
    expect(observation.delivery?.reply?.code).toBe(554);
  });
});
