import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { TIMEOUTS } from '../core/timeouts.js';
import { LabError } from '../core/errors.js';
import { labLabels, SCENARIO_LABEL } from '../engine/labels.js';
import type { LabNetwork } from '../engine/lab-network.js';
import { withoutNetAdmin } from '../engine/isolation.js';

/**
 * Same image as the lab Postfix (it has OpenSSL 3.0 from Debian), idling until a check execs
 * into it. Its first step is lab-isolate too: no default route, NET_ADMIN dropped from the
 * bounding set before `sleep` (execs into it are the harness's own tools).
 */
class IdleClient extends GenericContainer {
  constructor(image: string) {
    super(image);
    // No resolver: the client only ever connects to lab addresses it is given.
    this.hostConfig.Dns = ['127.0.0.1'];
  }
}

/**
 * A client container on the scenario's lab network, so that tools like openssl s_client run
 * with the lab's OpenSSL, not the host's, and reach Postfix the way another host would.
 */
export class LabClientContainer {
  private constructor(
    private readonly container: StartedTestContainer,
    readonly address: string,
  ) {}

  static async start(image: string, network: LabNetwork, scenarioId: string): Promise<LabClientContainer> {
    try {
      const c = await new IdleClient(image)
        .withEntrypoint(['/usr/local/bin/lab-isolate', 'sleep', 'infinity'])
        .withAddedCapabilities('NET_ADMIN')
        .withWaitStrategy(Wait.forLogMessage(/^lab-isolate: no route out/m))
        .withStartupTimeout(TIMEOUTS.clientReady)
        .withNetworkMode(network.name)
        .withLabels(labLabels({ [SCENARIO_LABEL]: scenarioId }))
        .start();
      return new LabClientContainer(c, c.getIpAddress(network.name));
    } catch (err) {
      throw new LabError('ECONTAINER', `could not start the lab client container for ${scenarioId}: ${(err as Error).message}`, { cause: err });
    }
  }

  getId(): string {
    return this.container.getId();
  }

  async exec(command: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
    const r = await this.container.exec(withoutNetAdmin(command));
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
  }

  async putFile(target: string, content: string, mode = 0o600): Promise<void> {
    await this.container.copyContentToContainer([{ content, target, mode }]);
  }

  async stop(): Promise<void> {
    await this.container.stop({ timeout: 0 });
  }
}
