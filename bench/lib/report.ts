/** Medians, ratios and the markdown table the benchmarks print and store. */
import { cpus } from 'node:os';

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export function machine() {
  const cpu = cpus();
  return { cpus: cpu.length, model: cpu[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform}-${process.arch}` };
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
