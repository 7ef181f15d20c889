import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { ScenarioSummary } from '../../bench/support/comparison-table.js';
import { finished, spawnTs } from '../support/processes.js';

const SCENARIOS = ['chat', 'latency', 'groups', 'calls', 'connections', 'login', 'history'];
const SERVER_ONLY = new Set(['login', 'history']);

// The benchmark does not rot: at its smallest sizes (and the server from source, so nothing is built)
// every scenario runs and yields its figures. Their values are not judged here.
test('npm run bench -- --tiny yields every scenario of the relay comparison', { timeout: 120_000 }, async () => {
  const results = await mkdtemp(path.join(tmpdir(), 'call-app-bench-results-'));
  try {
    const run = await finished(spawnTs('bench/run.ts', ['--tiny', '--from-source'], { ...process.env, BENCH_RESULTS_DIR: results }));
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(await readFile(path.join(results, 'relay-comparison.json'), 'utf8')) as {
      backend: string;
      machine: { cpus: number };
      versions: Record<string, string>;
      scenarios: ScenarioSummary[];
    };
    assert.equal(report.backend, process.env['DATABASE_URL'] ? 'postgres' : 'pglite');
    assert.ok(report.machine.cpus > 0 && report.versions['socket.io']);
    assert.deepEqual(report.scenarios.map((scenario) => scenario.scenario), SCENARIOS);
    for (const { scenario, figures } of report.scenarios) {
      assert.ok(figures.length > 0, `${scenario} has no figures`);
      for (const figure of figures) {
        const where = `${scenario}: ${figure.figure}`;
        assert.ok(Number.isFinite(figure.ours), `${where}: ours is ${figure.ours}`);
        if (SERVER_ONLY.has(scenario)) assert.equal(figure.relay, null, where);
        else assert.ok(Number.isFinite(figure.relay), `${where}: relay is ${figure.relay}`);
      }
    }
    assert.match(run.stdout, /ours\s+relay\s+ratio/);
  } finally {
    await rm(results, { recursive: true, force: true });
  }
});
