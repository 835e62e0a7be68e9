// File sets (media directories beside the database) go into the same chunk store as the dump:
// identical files and unchanged files add no chunks. Symlinks are recorded, never followed.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, matchesGlob } from 'node:path';
import { chunkFile } from './chunk-file.ts';
import type { ChunkWriter } from './chunk-writer.ts';
import type { ChunkParams } from './fastcdc.ts';
import type { DraftEntry, DraftFileSet } from './manifest-writer.ts';

/** A configured file set (config/store-schema.ts filesSchema). */
export interface FileSetConfig {
  name: string;
  path: string;
  exclude: string[];
}

/** Whether a relative path is left out: a pattern matches the path or its last component. */
export function isExcluded(rel: string, patterns: string[]): boolean {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  return patterns.some((p) => matchesGlob(rel, p) || (!p.includes('/') && matchesGlob(base, p)));
}

/** Walks a file set (sorted by name, depth first) and stores its regular files as chunks. */
export async function backupFileSet(
  set: FileSetConfig,
  writer: ChunkWriter,
  params: ChunkParams,
): Promise<DraftFileSet> {
  const entries: DraftEntry[] = [];
  async function visit(rel: string): Promise<void> {
    const full = rel ? join(set.path, rel) : set.path;
    const st = await lstat(full, { bigint: true });
    const base = {
      path: rel,
      mode: Number(st.mode & 0o7777n),
      mtimeNs: st.mtimeNs.toString(),
      uid: Number(st.uid),
      gid: Number(st.gid),
    };
    if (st.isSymbolicLink()) {
      entries.push({ ...base, type: 'symlink', target: await readlink(full) });
    } else if (st.isFile()) {
      const { size, sha256, chunks } = await chunkFile(full, writer, params);
      entries.push({ ...base, type: 'file', size, sha256, chunks });
    } else if (st.isDirectory()) {
      entries.push({ ...base, type: 'dir' });
      // Plain code-unit order: stable across machines and locales.
      const names = (await readdir(full)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const name of names) {
        const child = rel ? `${rel}/${name}` : name;
        if (!isExcluded(child, set.exclude)) await visit(child);
      }
    }
    // Sockets, FIFOs and devices are not data: left out.
  }
  await visit('');
  return { name: set.name, path: set.path, exclude: set.exclude, entries };
}
