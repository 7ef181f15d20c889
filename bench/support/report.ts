import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const packageVersion = (name: string) =>
  (JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;

/** Where a figure was measured: the machine and the versions of what ran. */
export function environment() {
  const app = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  return {
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryMB: Math.round(os.totalmem() / 2 ** 20), platform: `${os.platform()} ${os.release()}` },
    versions: {
      node: process.version,
      [app.name]: app.version,
      ...Object.fromEntries(['socket.io', 'socket.io-client', 'pg', '@electric-sql/pglite', 'kysely'].map((name) => [name, packageVersion(name)])),
    },
  };
}

/** Keeps a benchmark's figures in bench/results/<name>.json (or BENCH_RESULTS_DIR); `print` (default: the JSON) goes to stdout. */
export async function report(name: string, figures: Record<string, unknown>, print?: () => void): Promise<string> {
  const entry = { benchmark: name, at: new Date().toISOString(), ...environment(), ...figures };
  if (print) print();
  else console.log(JSON.stringify(entry, null, 2));
  const directory = process.env['BENCH_RESULTS_DIR'] ?? new URL('../results/', import.meta.url).pathname;
  await mkdir(directory, { recursive: true });
  const file = path.join(directory, `${name}.json`);
  await writeFile(file, `${JSON.stringify(entry, null, 2)}\n`);
  return file;
}
