// The local index of where the store keeps each chunk (hash → pack, offset, length): it lets a run
// reuse chunks without asking the store about each one. It is a cache, never trusted blindly:
// after every upload the store's packs are listed, every pack the new backup reads from is
// checked, and entries of packs that are gone are dropped before the index is saved.
//
// Kept as bytes, not JavaScript objects: a sorted buffer of 44-byte entries loaded from disk
// (binary search) plus this run's additions in an open-addressing table over another buffer.
// A store of millions of chunks costs tens of MB, and a run creates no object per chunk that
// the garbage collector would have to carry (as a Map of ~120,000 entries, the additions made
// V8's young generation grow by ~100 MB during a 1 GB upload).
import { createHash } from 'node:crypto';

/** Where a chunk's compressed frame is: a pack (its id) and a byte range in it. */
export interface ChunkLocation {
  pack: string;
  offset: number;
  length: number;
}

const HASH = 32;
const ENTRY = HASH + 12; // hash, pack number, offset, length
const MAGIC = Buffer.from('offsite-chunk-index-1\n');
/** Pack number of a chunk claimed by this run and not yet stored. */
const PENDING = 0xffffffff;
const EMPTY = -1;

/** hash → location, for the chunks of one pipeline's store. */
export class ChunkIndex {
  private readonly packIds: string[] = [];
  private readonly packSizes: number[] = [];
  private readonly packNo = new Map<string, number>();
  /** Sorted entries from the file (or an earlier compaction). */
  private base: Buffer = Buffer.alloc(0);
  /** This run's additions, unsorted, and a hash table of entry numbers over them (load ≤ 1/2). */
  private added = Buffer.allocUnsafe(ENTRY * 1024);
  private addedCount = 0;
  private slots = new Int32Array(2048).fill(EMPTY);

  /** Number of entries (stored or claimed; a chunk stored again counts twice until saved). */
  get size(): number {
    return this.base.length / ENTRY + this.addedCount;
  }

  /** Registers a pack (id = sha256 of its bytes, hex) and its size in bytes. */
  addPack(id: string, size: number): number {
    let no = this.packNo.get(id);
    if (no === undefined) {
      no = this.packIds.push(id) - 1;
      this.packSizes.push(size);
      this.packNo.set(id, no);
    }
    return no;
  }

  /** The packs entries point into, with their sizes. */
  packs(): Map<string, number> {
    return new Map(this.packIds.map((id, i) => [id, this.packSizes[i]!]));
  }

  /** Records where a chunk is (its pack must have been added). */
  add(hash: Uint8Array, loc: ChunkLocation): void {
    const pack = this.packNo.get(loc.pack);
    if (pack === undefined) throw new Error(`pack ${loc.pack} is not in the index`);
    this.put(hash, pack, loc.offset, loc.length);
  }

  /** Marks a chunk as being stored by this run: `has` is true, `get` undefined until `add`. */
  claim(hash: Uint8Array): void {
    this.put(hash, PENDING, 0, 0);
  }

  /** Where a chunk is stored, if it is. */
  get(hash: Uint8Array): ChunkLocation | undefined {
    const e = this.slots[this.slotOf(hash)]!;
    if (e !== EMPTY) {
      const pack = this.added.readUInt32BE(e * ENTRY + HASH);
      if (pack === PENDING) return undefined;
      return {
        pack: this.packIds[pack]!,
        offset: this.added.readUInt32BE(e * ENTRY + HASH + 4),
        length: this.added.readUInt32BE(e * ENTRY + HASH + 8),
      };
    }
    const at = this.find(hash);
    if (at < 0) return undefined;
    return {
      pack: this.packIds[this.base.readUInt32BE(at + HASH)]!,
      offset: this.base.readUInt32BE(at + HASH + 4),
      length: this.base.readUInt32BE(at + HASH + 8),
    };
  }

  /** Whether a chunk is stored or claimed. */
  has(hash: Uint8Array): boolean {
    return this.slots[this.slotOf(hash)] !== EMPTY || this.find(hash) >= 0;
  }

  /**
   * Keeps only entries whose pack is in `present` (id → size) with the size the index recorded;
   * returns the packs dropped.
   */
  retain(present: Map<string, number>): string[] {
    const dropped = new Set<number>();
    this.packIds.forEach((id, no) => {
      if (present.get(id) !== this.packSizes[no]) dropped.add(no);
    });
    const ids = [...dropped].map((no) => this.packIds[no]!);
    if (dropped.size > 0) this.compact((pack) => !dropped.has(pack));
    return ids;
  }

  /** The index as bytes: packs, entries sorted by hash, and a sha256 of both. */
  serialize(): Buffer {
    this.compact(() => true);
    const packs = Buffer.alloc(4 + this.packIds.length * (HASH + 4));
    packs.writeUInt32BE(this.packIds.length, 0);
    this.packIds.forEach((id, i) => {
      packs.write(id, 4 + i * (HASH + 4), 'hex');
      packs.writeUInt32BE(this.packSizes[i]!, 4 + i * (HASH + 4) + HASH);
    });
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.base.length / ENTRY, 0);
    const body = Buffer.concat([MAGIC, packs, count, this.base]);
    return Buffer.concat([body, createHash('sha256').update(body).digest()]);
  }

  /** Parses serialize()'s output; null when it is not a whole, intact index. */
  static parse(bytes: Buffer): ChunkIndex | null {
    if (bytes.length < MAGIC.length + 8 + HASH || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return null;
    const body = bytes.subarray(0, bytes.length - HASH);
    if (!createHash('sha256').update(body).digest().equals(bytes.subarray(body.length))) return null;
    const index = new ChunkIndex();
    let at = MAGIC.length;
    const packs = body.readUInt32BE(at);
    at += 4;
    for (let i = 0; i < packs; i++, at += HASH + 4) {
      index.addPack(body.toString('hex', at, at + HASH), body.readUInt32BE(at + HASH));
    }
    const entries = body.readUInt32BE(at);
    at += 4;
    if (body.length - at !== entries * ENTRY) return null;
    index.base = Buffer.from(body.subarray(at));
    return index;
  }

  /** The table slot holding `hash`, or the empty slot where it would go (linear probing). */
  private slotOf(hash: Uint8Array): number {
    const mask = this.slots.length - 1;
    // sha256 bytes are uniform: the first four make a good table hash.
    let i = ((hash[0]! << 24) | (hash[1]! << 16) | (hash[2]! << 8) | hash[3]!) & mask;
    for (;;) {
      const e = this.slots[i]!;
      if (e === EMPTY || this.added.compare(hash, 0, HASH, e * ENTRY, e * ENTRY + HASH) === 0) return i;
      i = (i + 1) & mask;
    }
  }

  private put(hash: Uint8Array, pack: number, offset: number, length: number): void {
    const slot = this.slotOf(hash);
    let e = this.slots[slot]!;
    if (e === EMPTY) {
      if ((this.addedCount + 1) * ENTRY > this.added.length) {
        const bigger = Buffer.allocUnsafe(this.added.length * 2);
        this.added.copy(bigger, 0, 0, this.addedCount * ENTRY);
        this.added = bigger;
      }
      e = this.addedCount++;
      this.added.set(hash.subarray(0, HASH), e * ENTRY);
      this.slots[slot] = e;
      if (this.addedCount * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    }
    this.added.writeUInt32BE(pack, e * ENTRY + HASH);
    this.added.writeUInt32BE(offset, e * ENTRY + HASH + 4);
    this.added.writeUInt32BE(length, e * ENTRY + HASH + 8);
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size).fill(EMPTY);
    for (let e = 0; e < this.addedCount; e++) {
      this.slots[this.slotOf(this.added.subarray(e * ENTRY, e * ENTRY + HASH))] = e;
    }
  }

  /** Binary search of the sorted entries: the byte offset of `hash`'s entry, or -1. */
  private find(hash: Uint8Array): number {
    let lo = 0;
    let hi = this.base.length / ENTRY - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = mid * ENTRY;
      const c = this.base.compare(hash, 0, HASH, at, at + HASH);
      if (c === 0) return at;
      if (c > 0) hi = mid - 1;
      else lo = mid + 1;
    }
    return -1;
  }

  /**
   * Merges the additions into the sorted entries and renumbers the packs, keeping only entries
   * (and packs) that pass `keep`.
   */
  private compact(keep: (pack: number) => boolean): void {
    const renumber = new Map<number, number>();
    const ids: string[] = [];
    const sizes: number[] = [];
    this.packIds.forEach((id, no) => {
      if (!keep(no)) return;
      renumber.set(no, ids.push(id) - 1);
      sizes.push(this.packSizes[no]!);
    });
    // This run's entries in hash order: by their first four bytes, then (rarely) by all 32.
    const prefix = (e: number) => this.added.readUInt32BE(e * ENTRY);
    const order = Array.from({ length: this.addedCount }, (_, e) => e).sort(
      (a, b) =>
        prefix(a) - prefix(b) ||
        this.added.compare(this.added, b * ENTRY, b * ENTRY + HASH, a * ENTRY, a * ENTRY + HASH),
    );
    const out = Buffer.allocUnsafe(this.base.length + order.length * ENTRY);
    let n = 0;
    const put = (hash: Uint8Array, pack: number, offset: number, length: number) => {
      const to = renumber.get(pack);
      if (to === undefined) return;
      out.set(hash, n * ENTRY);
      out.writeUInt32BE(to, n * ENTRY + HASH);
      out.writeUInt32BE(offset, n * ENTRY + HASH + 4);
      out.writeUInt32BE(length, n * ENTRY + HASH + 8);
      n++;
    };
    const baseCount = this.base.length / ENTRY;
    const copyBase = (b: number) => {
      const at = b * ENTRY;
      const field = (k: number) => this.base.readUInt32BE(at + HASH + 4 * k);
      put(this.base.subarray(at, at + HASH), field(0), field(1), field(2));
    };
    // <0: the loaded entry b sorts before `hash`.
    const cmp = (hash: Buffer, b: number) => this.base.compare(hash, 0, HASH, b * ENTRY, b * ENTRY + HASH);
    let b = 0;
    for (const e of order) {
      const hash = this.added.subarray(e * ENTRY, e * ENTRY + HASH);
      while (b < baseCount && cmp(hash, b) < 0) copyBase(b++);
      // An addition replaces a loaded entry of the same hash (a chunk stored again elsewhere).
      if (b < baseCount && cmp(hash, b) === 0) b++;
      const field = (k: number) => this.added.readUInt32BE(e * ENTRY + HASH + 4 * k);
      put(hash, field(0), field(1), field(2));
    }
    while (b < baseCount) copyBase(b++);
    this.base = out.subarray(0, n * ENTRY);
    this.addedCount = 0;
    this.slots.fill(EMPTY);
    this.packIds.splice(0, Infinity, ...ids);
    this.packSizes.splice(0, Infinity, ...sizes);
    this.packNo.clear();
    for (const [no, id] of ids.entries()) this.packNo.set(id, no);
  }
}
