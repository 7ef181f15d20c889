/**
 * `npm run bench` runs every benchmark (bench/*.bench.ts) one after another, each in its own process,
 * against the production build (built first). Benchmarks measure and report; they never pass or fail on a figure.
 *
 *   npm run bench -- --quick     every scenario small (under 90 s); the push benchmark only runs in full
 *   npm run bench -- --tiny      the smallest sizes (the smoke test)
 *   npm run bench -- chat        the benchmarks whose file name, or the relay comparison's scenarios whose
 *                                name, contains "chat"
 *   --from-source                runs the server from src/ (through tsx) instead of building dist/
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const args = process.argv.slice(2);
const size = args.includes('--tiny') ? 'tiny' : args.includes('--quick') ? 'quick' : 'full';
const fromSource = args.includes('--from-source');
const filter = args.find((arg) => !arg.startsWith('--')) ?? '';

if (!fromSource) {
  const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const benches = readdirSync(new URL('.', import.meta.url)).filter(
  (file) => file.endsWith('.bench.ts') && (file === 'relay-comparison.bench.ts' || (file.includes(filter) && size === 'full')),
);
for (const file of benches.sort()) {
  console.log(`\n# ${file}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', new URL(file, import.meta.url).pathname], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_SIZE: size, BENCH_FILTER: filter, ...(fromSource ? { BENCH_FROM_SOURCE: '1' } : {}) },
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
