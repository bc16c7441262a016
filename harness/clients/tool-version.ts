import type { LabClientContainer } from '../lab/client-container.js';

const cache = new WeakMap<LabClientContainer, Map<string, Promise<string>>>();

/**
 * The first line a tool prints for its version in a lab client container (`openssl version`,
 * `gnutls-cli --version`), asked once per container: every observation's transcript names the
 * library that made it, which is what tells a same-stack client from a clientStack one.
 */
export function toolVersion(client: LabClientContainer, command: readonly string[]): Promise<string> {
  let byTool = cache.get(client);
  if (!byTool) cache.set(client, (byTool = new Map()));
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
