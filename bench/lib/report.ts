/** Medians, ratios and the markdown table the benchmarks print and store. */
import { cpus, freemem, loadavg, totalmem } from 'node:os';

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The contestants in a different order each round, so none always runs first (or right after another). */
export const rotate = <T>(items: readonly T[], round: number): T[] => items.map((_, i) => items[(i + round) % items.length]!);

export function machine() {
  const cpu = cpus();
  return { cpus: cpu.length, model: cpu[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform}-${process.arch}` };
}

/** What else the machine is doing: load averages and memory, at the start and the end of a run. */
export function machineState() {
  const [one, five, fifteen] = loadavg();
  return { loadavg: [one!, five!, fifteen!].map((v) => Number(v.toFixed(2))), freeMemMb: Math.round(freemem() / 2 ** 20), totalMemMb: Math.round(totalmem() / 2 ** 20) };
}

export interface Row {
  benchmark: string;
  metric: string;
  ours: number | string;
  original: number | string;
  floor?: number | string;
  goal?: string;
}

const format = (value: number | string | undefined) =>
  value === undefined ? '' : typeof value === 'number' ? (Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2)) : value;

export function ratio(ours: number | string, original: number | string): string {
  return typeof ours === 'number' && typeof original === 'number' && original !== 0 ? `${(ours / original).toFixed(2)}×` : '';
}

export function markdownTable(rows: Row[]): string {
  const header = '| benchmark | metric | ours | original | ours/original | node floor | goal |\n|---|---|---|---|---|---|---|';
  const lines = rows.map((r) => `| ${r.benchmark} | ${r.metric} | ${format(r.ours)} | ${format(r.original)} | ${ratio(r.ours, r.original)} | ${format(r.floor)} | ${r.goal ?? ''} |`);
  return [header, ...lines].join('\n');
}

export const progress = (text: string) => process.stderr.write(`bench: ${text}\n`);
