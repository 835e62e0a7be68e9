import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore, StoredObject } from '../pipeline/ports.ts';

/**
 * An object store in a directory (a local or offline disk). Writes go to a temp file and are
 * renamed into place, so a reader never sees half an object.
 */
export function createDirStore(root: string): ObjectStore {
  const base = resolve(root);
  const pathOf = (key: string) => {
    const path = resolve(base, key);
    if (!path.startsWith(base + sep)) throw new Error(`object key escapes the store: ${key}`);
    return path;
  };

  async function walk(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const files: string[] = [];
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) files.push(...(await walk(full)));
      else if (e.isFile() && !e.name.includes('.offsite-tmp-')) files.push(full);
    }
    return files;
  }

  return {
    location: base,
    urlOf: (key) => join(base, key) + (key.endsWith('/') ? sep : ''),
    async listFolders(prefix) {
      const entries = await readdir(prefix ? pathOf(prefix) : base, { withFileTypes: true }).catch(() => []);
      return entries.filter((e) => e.isDirectory()).map((e) => e.name);
    },
    async put(key, body, _size, signal) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.offsite-tmp-${randomBytes(4).toString('hex')}`;
      try {
        const source = Buffer.isBuffer(body) ? Readable.from([body]) : body();
        await pipeline(source, createWriteStream(tmp), { signal });
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },
    async head(key) {
      const s = await stat(pathOf(key)).catch(() => null);
      return s?.isFile() ? { key, size: s.size } : null;
    },
    async get(key, _signal, range) {
      const path = pathOf(key);
      await stat(path); // fail here (ENOENT) rather than in the middle of a pipeline
      return createReadStream(path, range && { start: range.offset, end: range.offset + range.length - 1 });
    },
    async list(prefix) {
      const out: StoredObject[] = [];
      for (const file of await walk(base)) {
        const key = relative(base, file).split(sep).join('/');
        if (!key.startsWith(prefix)) continue;
        const s = await stat(file);
        out.push({ key, size: s.size, lastModified: s.mtime });
      }
      return out.sort((a, b) => a.key.localeCompare(b.key));
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}
