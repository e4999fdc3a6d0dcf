import { readFileSync } from 'node:fs';

/** name and version from package.json, read once (dist/src/server → the project root). */
export const packageInfo: { name: string; version: string } = JSON.parse(
  readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
);
