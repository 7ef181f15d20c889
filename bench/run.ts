/**
 * `npm run bench` runs every benchmark (bench/*.bench.ts) one after another, each in its own process,
 * against the production build. `npm run bench -- chat` runs those whose name contains "chat".
 * Benchmarks measure and report; they never pass or fail on a figure.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const filter = process.argv[2] ?? '';
const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const benches = readdirSync(new URL('.', import.meta.url)).filter((file) => file.endsWith('.bench.ts') && file.includes(filter));
for (const file of benches.sort()) {
  console.log(`\n# ${file}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', new URL(file, import.meta.url).pathname], { stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
