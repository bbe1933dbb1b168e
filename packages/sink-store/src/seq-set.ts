/** Seqs per chunk: one chunk is a 512-byte bitmap. */
const CHUNK_BITS = 4096;
const CHUNK_WORDS = CHUNK_BITS / 32;

/**
 * A set of sequence numbers (integers 0..2^53-1, the protocol's whole range) for one job.
 *
 * Sparse and chunked: a map from `floor(seq / 4096)` to a 512-byte bitmap, so memory follows
 * how many seqs are present and how clustered they are (a job's dense 0..n-1 costs n/8 bytes
 * plus one map entry per 4,096), never the largest value. Seq 2^32+k and k are distinct.
 *
 * @example
 * const s = new SeqSet();
 * s.add(2 ** 53 - 1); // one 512-byte chunk, not 2^50 bytes
 */
export class SeqSet {
  private readonly chunks = new Map<number, Uint32Array>();
  // Seqs arrive mostly in order: the chunk used last saves a Map lookup.
  private lastKey = -1;
  private lastChunk: Uint32Array | undefined;
  /** How many seqs the set holds. */
  size = 0;

  has(seq: number): boolean {
    if (!isSeq(seq)) return false;
    const chunk = this.chunkOf(Math.floor(seq / CHUNK_BITS), false);
    if (!chunk) return false;
    const bit = seq % CHUNK_BITS;
    return ((chunk[bit >>> 5] ?? 0) & (1 << (bit & 31))) !== 0;
  }

  /** Adds `seq`; false when it was there already. Throws a RangeError for a value outside 0..2^53-1. */
  add(seq: number): boolean {
    if (!isSeq(seq)) {
      throw new RangeError(`SeqSet: expected an integer from 0 to 2^53-1, got ${String(seq)}`);
    }
    const chunk = this.chunkOf(Math.floor(seq / CHUNK_BITS), true) as Uint32Array;
    const bit = seq % CHUNK_BITS;
    const i = bit >>> 5;
    const mask = 1 << (bit & 31);
    const word = chunk[i] ?? 0;
    if (word & mask) return false;
    chunk[i] = word | mask;
    this.size++;
    return true;
  }

  /** Removes `seq`; false when it was not there. */
  delete(seq: number): boolean {
    if (!this.has(seq)) return false;
    const key = Math.floor(seq / CHUNK_BITS);
    const chunk = this.chunks.get(key) as Uint32Array;
    const bit = seq % CHUNK_BITS;
    chunk[bit >>> 5] = (chunk[bit >>> 5] ?? 0) & ~(1 << (bit & 31));
    this.size--;
    if (chunk.every((w) => w === 0)) {
      this.chunks.delete(key);
      if (this.lastKey === key) this.lastChunk = undefined;
      this.lastKey = -1;
    }
    return true;
  }

  private chunkOf(key: number, create: boolean): Uint32Array | undefined {
    if (key === this.lastKey && this.lastChunk) return this.lastChunk;
    let chunk = this.chunks.get(key);
    if (!chunk && create) {
      chunk = new Uint32Array(CHUNK_WORDS);
      this.chunks.set(key, chunk);
    }
    if (chunk) {
      this.lastKey = key;
      this.lastChunk = chunk;
    }
    return chunk;
  }

  /** Bytes of bitmap held (for tests and figures). */
  get bytes(): number {
    return this.chunks.size * CHUNK_WORDS * 4;
  }
}

function isSeq(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
