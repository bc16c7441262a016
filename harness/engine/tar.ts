import { LabError } from '../core/errors.js';

/** One regular file for a container, owned by root. */
export interface TarFile {
  /** Absolute path inside the container. */
  readonly target: string;
  readonly content: string | Buffer;
  readonly mode: number;
  /** Modification time written into the archive (and so onto the file). */
  readonly mtime: Date;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as ustar readers expect.
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** ustar splits a long path into a prefix (up to 155 bytes) and a name (up to 100) at a '/'. */
function splitPath(relative: string): { name: string; prefix: string } {
  if (Buffer.byteLength(relative) <= 100) return { name: relative, prefix: '' };
  for (let i = relative.indexOf('/'); i > 0; i = relative.indexOf('/', i + 1)) {
    const prefix = relative.slice(0, i);
    const name = relative.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  throw new LabError('EINTERNAL', `path ${relative} is too long for a tar archive (ustar)`);
}

function header(file: TarFile, size: number): Buffer {
  const relative = file.target.replace(/^\/+/, '');
  if (!relative || relative.split('/').some((p) => p === '..' || p === '')) throw new LabError('EINTERNAL', `not a file path for a container: ${file.target}`);
  const { name, prefix } = splitPath(relative);
  const h = Buffer.alloc(BLOCK, 0);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(file.mode & 0o7777, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii'); // uid root
  h.write(octal(0, 8), 116, 8, 'ascii'); // gid root
  h.write(octal(size, 12), 124, 12, 'ascii');
  h.write(octal(Math.floor(file.mtime.getTime() / 1000), 12), 136, 12, 'ascii');
  h.write('        ', 148, 8, 'ascii'); // checksum field counts as spaces while summing
  h.write('0', 156, 1, 'ascii'); // regular file
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

/**
 * A tar archive of regular files, for Docker's put-archive at '/'. Written here rather than
 * through Testcontainers' copy helpers because the lab must choose each file's modification
 * time: Postfix pauses up to two seconds before it reads a main.cf modified within the last
 * second ("pausing to let ... settle"), so a config copied in with mtime "now" costs every
 * start that pause.
 */
export function tarArchive(files: readonly TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    const body = typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : f.content;
    parts.push(header(f, body.length), body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0)); // end of archive
  return Buffer.concat(parts);
}
