import type { StackVersions } from '../report/types.js';

/** What runs a command in a lab container (a started Postfix container does). */
interface Exec {
  exec(command: string[]): Promise<{ readonly exitCode: number; readonly stdout: string; readonly stderr: string }>;
}

/**
 * The Postfix and OpenSSL versions of the image a scenario really ran, read from its Postfix
 * container (`postconf -d -h mail_version`, `openssl version`): the report's stack versions
 * come from here, never from a table of what a suite is said to ship. A command that fails
 * leaves its version null, with what it said.
 */
export async function readStackVersions(container: Exec): Promise<StackVersions> {
  const ask = async (cmd: string[]): Promise<string | null> => {
    const r = await container.exec(cmd).catch(() => null);
    const out = r?.stdout.trim() ?? '';
    return r && r.exitCode === 0 && out !== '' ? out.split('\n')[0]!.slice(0, 200) : null;
  };
  const [postfix, openssl] = await Promise.all([ask(['postconf', '-d', '-h', 'mail_version']), ask(['openssl', 'version'])]);
  return { postfix, openssl };
}
