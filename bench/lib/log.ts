/** One progress line of `npm run bench`, with the time of day. */
export function log(line: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}
