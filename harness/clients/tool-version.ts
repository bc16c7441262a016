import type { LabClientContainer } from '../lab/client-container.js';

// By container id: a pooled client (lab/client-pool.ts) is the same container under a new wrapper each scenario.
const cache = new Map<string, Map<string, Promise<string>>>();

/**
 * The first line a tool prints for its version in a lab client container (`openssl version`,
 * `gnutls-cli --version`), asked once per container (by its id): every observation's transcript names the
 * library that made it, which is what tells a same-stack client from a clientStack one.
 */
export function toolVersion(client: LabClientContainer, command: readonly string[]): Promise<string> {
  let byTool = cache.get(client.getId());
  if (!byTool) cache.set(client.getId(), (byTool = new Map()));
  const key = command.join(' ');
  let p = byTool.get(key);
  if (!p) {
    p = client.exec([...command]).then(
      (r) => r.stdout.split('\n').find((l) => l.trim() !== '')?.trim() ?? `(${key}: no output)`,
      (err: Error) => `(${key}: ${err.message})`,
    );
    byTool.set(key, p);
  }
  return p;
}
