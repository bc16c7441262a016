import type { StartedTestContainer } from 'testcontainers';
import { TIMEOUTS } from '../core/timeouts.js';
import { LabContainer, LabLineWaitStrategy, StartedLabContainer, type LabNodeIdentity, type StartStep } from '../engine/lab-container.js';

/** The node a ClientContainer is when the caller names none: the default topology's client. */
const DEFAULT_CLIENT_NODE: LabNodeIdentity = { name: 'client', hostnames: ['client.lab.test'], hostNumber: 20 };

/**
 * Builder for the lab client container: the lab Postfix image (it has OpenSSL 3.0 from
 * Debian) idling until a check execs into it, so that tools like openssl s_client run with
 * the lab's OpenSSL, not the host's, and reach Postfix the way another host would. A
 * LabContainer like every other node: lab-isolate first, then `sleep` without NET_ADMIN;
 * execs into it are the harness's own tools.
 */
export class ClientContainer extends LabContainer {
  constructor(image: string) {
    super(image, 'ClientContainer', { node: DEFAULT_CLIENT_NODE, readyTimeoutMs: TIMEOUTS.clientReady });
  }

  protected labCommand(): readonly string[] {
    return ['sleep', 'infinity'];
  }

  protected readiness(): LabLineWaitStrategy {
    return new LabLineWaitStrategy(this.output, { waitsFor: "client-ready (line 'lab-isolate: no route out')", ready: /^lab-isolate: no route out/, who: 'the client container' });
  }

  override async start(): Promise<LabClientContainer> {
    const { started, address, network, steps } = await this.startLab();
    return new LabClientContainer(started, this.node, address, network.name, this.scenarioId, steps);
  }
}

/** A started lab client container. */
export class LabClientContainer extends StartedLabContainer {
  constructor(container: StartedTestContainer, node: LabNodeIdentity, address: string, networkName: string, scenarioId: string, startSteps: readonly StartStep[] = []) {
    super(container, node, address, networkName, scenarioId, startSteps);
  }

  async putFile(target: string, content: string, mode = 0o600): Promise<void> {
    await this.copyContentToContainer([{ content, target, mode }]);
  }
}
