import { randomBytes } from 'node:crypto';
import { getContainerRuntimeClient } from 'testcontainers';
import { LabError } from '../core/errors.js';
import { labLabels, RUN_ID, SCENARIO_LABEL } from './labels.js';

/**
 * A per-scenario Docker network made with --internal: containers on it reach each other and
 * the host reaches them at their own addresses, but Docker gives the network no way out,
 * and the egress guard drops anything that tries. Concurrent scenarios never share one.
 */
export class LabNetwork {
  private constructor(
    readonly name: string,
    readonly id: string,
  ) {}

  static async create(scenarioId: string): Promise<LabNetwork> {
    // Unique even when one run starts the same scenario twice (the catalogue and a test beside it).
    const name = `smtp-tls-lab-${RUN_ID}-${scenarioId}`.slice(0, 100) + `-${randomBytes(3).toString('hex')}`;
    try {
      const client = await getContainerRuntimeClient();
      const net = await client.network.create({
        Name: name,
        Internal: true,
        CheckDuplicate: true,
        Labels: labLabels({ [SCENARIO_LABEL]: scenarioId }),
      });
      return new LabNetwork(name, net.id);
    } catch (err) {
      throw new LabError('ECONTAINER', `could not create lab network ${name}: ${(err as Error).message}`, { cause: err });
    }
  }

  async remove(): Promise<void> {
    const client = await getContainerRuntimeClient();
    await client.network.remove(client.network.getById(this.id));
  }
}
