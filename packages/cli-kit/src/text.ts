/** `1 host`, `2 hosts`: a count with its noun, singular only for exactly one. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
