// What a reader of the bucket could learn from its bytes: every object as text, plus whatever of
// it decompresses — the whole object, and every zstd frame found anywhere in it (a pack of
// unsealed frames between other bytes would show its rows here). Used to prove an encrypted
// store holds no row value, with a plaintext store as the scan's own control.
import { createZstdDecompress, zstdDecompressSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { storeKeys } from '../faults/promises.ts';
import type { LocalWorld } from './local-world.ts';

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** What a zstd decoder makes of `bytes`, up to the first byte it cannot read. */
function leniently(bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const d = createZstdDecompress();
    d.on('data', (c: Buffer) => out.push(c));
    d.on('error', () => resolve(Buffer.concat(out)));
    d.on('end', () => resolve(Buffer.concat(out)));
    d.end(bytes);
  });
}

/** An object's bytes as latin1 text, followed by everything in it that decompresses. */
export async function scannable(raw: Buffer): Promise<string> {
  let text = raw.toString('latin1');
  try {
    text += `\n${zstdDecompressSync(raw).toString('latin1')}`;
  } catch {
    // not one zstd stream: its frames are tried one by one below
  }
  for (let at = raw.indexOf(ZSTD_MAGIC); at !== -1; at = raw.indexOf(ZSTD_MAGIC, at + 1)) {
    const next = raw.indexOf(ZSTD_MAGIC, at + 1);
    text += `\n${(await leniently(raw.subarray(at, next === -1 ? raw.length : next))).toString('latin1')}`;
  }
  return text;
}

/** Every object of the world's bucket under `prefix`: its key, bytes and scannable text. */
export async function storeObjects(
  world: LocalWorld,
  prefix: string,
): Promise<{ key: string; raw: Buffer; text: string }[]> {
  const client = world.s3.client();
  const out: { key: string; raw: Buffer; text: string }[] = [];
  for (const key of await storeKeys(world, prefix)) {
    const got = await client.send(new GetObjectCommand({ Bucket: world.s3.bucket, Key: key }));
    const raw = Buffer.from(await got.Body!.transformToByteArray());
    out.push({ key, raw, text: await scannable(raw) });
  }
  return out;
}
