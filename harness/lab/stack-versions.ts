import type { StackVersions } from '../report/types.js';

/** What runs a command in a lab container (a started Postfix container does). */
interface Exec {
  exec(command: string[]): Promise<{ readonly exitCode: number; readonly stdout: string; readonly stderr: string }>;
}

/** Per image tag, the versions its first container in this process said (an image never changes under its tag). */
const byImage = new Map<string, Promise<StackVersions>>();

/**
 * The Postfix and OpenSSL versions of the image a scenario really ran, read from its Postfix
 * container (`postconf -d -h mail_version`, `openssl version`, in one exec): the report's stack
 * versions come from here, never from a table of what a suite is said to ship. A command that
 * fails leaves its version null, with what it said. With `imageTag`, the answer of the first
 * container of that image is reused for the next ones (a tag is a hash of the recipe, so its
 * containers cannot differ); an answer with a null in it is not kept, so the next one asks again.
 */
export function readStackVersions(container: Exec, imageTag?: string): Promise<StackVersions> {
  if (imageTag === undefined) return askContainer(container);
  const had = byImage.get(imageTag);
  if (had) return had;
  const asked = askContainer(container);
  byImage.set(imageTag, asked);
  void asked.then((v) => {
    if (v.postfix === null || v.openssl === null) byImage.delete(imageTag);
  });
  return asked;
}

const MARK = '--lab-stack-versions--';

async function askContainer(container: Exec): Promise<StackVersions> {
  // One exec for both (each exec costs the engine ~40 ms of CPU); each answer's first line, or null.
  const r = await container.exec(['sh', '-c', `postconf -d -h mail_version; echo ${MARK}; openssl version`]).catch(() => null);
  const [postfixOut = '', opensslOut = ''] = (r?.stdout ?? '').split(`${MARK}\n`);
  const first = (out: string) => {
    const line = out.trim().split('\n')[0]?.trim() ?? '';
    return line === '' ? null : line.slice(0, 200);
  };
  return r ? { postfix: first(postfixOut), openssl: first(opensslOut) } : { postfix: null, openssl: null };
}
