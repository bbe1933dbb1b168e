export async function main(_argv: string[]): Promise<void> {
  process.stderr.write("not yet\n");
}
