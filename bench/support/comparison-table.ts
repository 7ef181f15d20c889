import type { Figures, Scenario } from './scenario.js';
import { round } from './stats.js';

export interface FigureSummary {
  figure: string;
  ours: number;
  /** null where the relay has nothing to compare with. */
  relay: number | null;
  /** ours / relay. */
  ratio: number | null;
  rounds: { server: number[]; relay: number[] };
}

export interface ScenarioSummary {
  scenario: string;
  description: string;
  figures: FigureSummary[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : round((sorted[middle - 1]! + sorted[middle]!) / 2, 2);
};

/** Each figure's median over the rounds, and the ratio of ours to the relay's. */
export function summarise(results: { scenario: Scenario; rounds: { relay: Figures[]; server: Figures[] } }[]): ScenarioSummary[] {
  return results.map(({ scenario, rounds }) => ({
    scenario: scenario.name,
    description: scenario.description,
    figures: Object.keys(rounds.server[0] ?? {}).map((figure) => {
      const server = rounds.server.map((figures) => figures[figure]!);
      const relay = rounds.relay.map((figures) => figures[figure]!);
      const ours = median(server);
      const baseline = relay.length > 0 ? median(relay) : null;
      const ratio = baseline === null || baseline === 0 ? null : round(ours / baseline, 3);
      return { figure, ours, relay: baseline, ratio, rounds: { server, relay } };
    }),
  }));
}

export function printTable(backend: string, sizes: string, summary: ScenarioSummary[]): void {
  const rows = summary.flatMap(({ scenario, figures }) =>
    figures.map(({ figure, ours, relay, ratio }) => [scenario, figure, String(ours), relay === null ? '-' : String(relay), ratio === null ? '-' : `${ratio}x`]),
  );
  const header = ['scenario', 'figure', 'ours', 'relay', 'ratio'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  console.log(`\nThe server on ${backend === 'postgres' ? 'PostgreSQL' : 'PGlite (embedded)'} against a bare Socket.io relay (${sizes} sizes; median of rounds; ratio = ours / relay)\n`);
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}
