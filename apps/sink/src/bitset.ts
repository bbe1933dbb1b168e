/** A growable set of small non-negative integers: sequence numbers seen for one job. */
export class SeqSet {
  private bits = new Uint32Array(64);
  size = 0;

  has(n: number): boolean {
    const i = n >>> 5;
    return i < this.bits.length && ((this.bits[i] ?? 0) & (1 << (n & 31))) !== 0;
  }

  add(n: number): boolean {
    const i = n >>> 5;
    if (i >= this.bits.length) {
      let len = this.bits.length;
      while (len <= i) len *= 2;
      const next = new Uint32Array(len);
      next.set(this.bits);
      this.bits = next;
    }
    const mask = 1 << (n & 31);
    const word = this.bits[i] ?? 0;
    if (word & mask) return false;
    this.bits[i] = word | mask;
    this.size++;
    return true;
  }
}
