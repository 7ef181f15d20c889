import { mkdir, writeFile } from 'node:fs/promises';

/** Prints a benchmark's figures and keeps them in bench/results/<name>.json. */
export async function report(name: string, figures: Record<string, unknown>): Promise<void> {
  const entry = { benchmark: name, at: new Date().toISOString(), node: process.version, ...figures };
  console.log(JSON.stringify(entry, null, 2));
  await mkdir(new URL('../results/', import.meta.url), { recursive: true });
  await writeFile(new URL(`../results/${name}.json`, import.meta.url), `${JSON.stringify(entry, null, 2)}\n`);
}
