/**
 * Bad input for the MTA-STS lab, on trixie with real Postfix and the real resolver: a socketmap
 * that does not answer and a resolver that has stopped make the check an error (ESTS), never
 * a pass or a fail; a policy host that cannot listen on 443 says why (ESTS, errno).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../checks/run-check.js';
import { LabError } from '../../core/errors.js';
import { materializeCertificates } from '../../certs/materialize.js';
import { ensureImage } from '../../engine/images.js';
import { LabNetwork } from '../../engine/lab-network.js';
import { SCENARIOS_DIR } from '../../engine/paths.js';
import { ScenarioSession } from '../../lab/scenario-session.js';
import { applyBreakIt } from '../../scenario/break-it.js';
import { loadScenario } from '../../scenario/load.js';
import { StsPolicyContainer } from '../../sts/policy-container.js';
import { POLICY_HOST_SCRIPT_PATH } from '../../sts/policy-host-script.js';
import { RESOLVER_PID_FILE } from '../../sts/resolver-container.js';

const trixie = () => ensureImage('postfix', () => undefined, 'trixie').then((r) => r.tag);
const base = () => loadScenario(path.join(SCENARIOS_DIR, 'sts-enforce-valid'));

/** The policy host with port 443 already taken inside its container (a second server got there first). */
class BusyPortPolicyHost extends StsPolicyContainer {
  protected override labCommand(): readonly string[] {
    const squatter = 'import socket,time; s=socket.socket(); s.bind(("0.0.0.0",443)); s.listen(); time.sleep(3600)';
    return ['sh', '-c', `python3 -c '${squatter}' & sleep 1; exec python3 -u ${POLICY_HOST_SCRIPT_PATH}`];
  }
}

describe('MTA-STS lab: bad input is an error, never a verdict', () => {
  it('a socketmap nobody answers (wrong port): the delivery check is an ESTS error quoting Postfix', async () => {
    const broken = applyBreakIt(base(), { title: 'port 9', mainCf: { set: { smtp_tls_policy_maps: 'socketmap:inet:sts-resolver.lab.test:9:postfix' }, remove: [] }, masterCf: null, replace: [], fails: [] });
    const session = await ScenarioSession.start(broken, await trixie());
    try {
      const r = await runCheck(session, broken.checks[0]!);
      expect(r.status, r.message).toBe('error');
      expect(r.error?.code).toBe('ESTS');
      expect(r.message).toMatch(/socketmap|smtp_tls_policy_maps|lookup/i);
    } finally {
      await session.stop();
    }
  }, 300_000);

  it('a resolver that stopped: ESTS, not a deferral judged as MTA-STS', async () => {
    const scenario = base();
    const session = await ScenarioSession.start(scenario, await trixie());
    try {
      const resolver = await session.node('sts-resolver', 'sts-resolver');
      const k = await resolver.exec(['sh', '-c', `kill "$(cat ${RESOLVER_PID_FILE})"`]);
      expect(k.exitCode).toBe(0);
      const r = await runCheck(session, scenario.checks[0]!);
      expect(r.status, r.message).toBe('error');
      expect(r.error?.code).toBe('ESTS');
    } finally {
      await session.stop();
    }
  }, 300_000);

  it('a policy host that cannot listen on 443 names the cause (ESTS with the errno)', async () => {
    const scenario = base();
    const node = scenario.nodes.find((n) => n.kind === 'sts-policy')!;
    const certs = await materializeCertificates('sts-busy', scenario.certificates);
    const network = await LabNetwork.create(`sts-busy-${process.pid}`);
    let err: unknown = null;
    try {
      const c = await new BusyPortPolicyHost(await trixie(), node).withScenarioId(`sts-busy-${process.pid}`).withLabNetwork(network).withSites(node.sts!).withTlsDirectory(certs.dir).withCertificateSpecs(scenario.certificates).start();
      await c.stop();
    } catch (e) {
      err = e;
    } finally {
      await network.remove();
      certs.remove();
    }
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('ESTS');
    expect((err as LabError).message).toMatch(/cannot listen on 443: errno=98 Address already in use/);
  }, 300_000);
});
