/**
 * The import graph of our TypeScript sources, read from the sources themselves (every relative
 * `import … from`, `export … from`, bare `import '…'` and `import('…')`, type-only ones too: a
 * type import is a dependency of the module's meaning even when it is erased), and the folder
 * rules it must keep (test/folder-rules.test.ts; docs/architecture.md says why).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';

/** file (relative to the project root, e.g. `src/server/tools/index.ts`) → the files it imports. */
export type ImportGraph = ReadonlyMap<string, ReadonlySet<string>>;

const IMPORT = /^\s*(?:import|export)\s[^;]*?\sfrom\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/gm;

export function importGraph(root: string, folders: readonly string[]): ImportGraph {
  const graph = new Map<string, Set<string>>();
  for (const folder of folders) {
    for (const entry of readdirSync(join(root, folder), { recursive: true })) {
      const file = posix.join(folder, String(entry).split('\\').join('/'));
      if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
      const imports = new Set<string>();
      for (const match of readFileSync(join(root, file), 'utf8').matchAll(IMPORT)) {
        const specifier = (match[1] ?? match[2] ?? match[3])!;
        if (!specifier.startsWith('.')) continue;
        imports.add(relative(root, join(root, dirname(file), specifier)).split('\\').join('/').replace(/\.js$/, '.ts'));
      }
      graph.set(file, imports);
    }
  }
  return graph;
}

/** What may import what, by folder; each rule names what it keeps true. */
export const FOLDER_RULES: readonly { readonly name: string; readonly breaks: (from: string, to: string) => boolean }[] = [
  {
    name: 'src/protocol/ imports nothing of ours outside itself (it is the contract every side shares)',
    breaks: (from, to) => from.startsWith('src/protocol/') && !to.startsWith('src/protocol/'),
  },
  {
    name: "workers/ imports nothing of the main thread's server, rpc, transport, cli or config",
    breaks: (from, to) => from.startsWith('workers/') && /^src\/(server|rpc|transport|cli|config)\//.test(to),
  },
  {
    name: 'workers/ takes from src/ only what runs on every thread: src/protocol/, src/auth/store/, src/log.ts',
    breaks: (from, to) => from.startsWith('workers/') && to.startsWith('src/') && !/^src\/(protocol\/|auth\/store\/|log\.ts$)/.test(to),
  },
  {
    name: 'dev/ imports nothing from workers/ (workers ship; dev code does not)',
    breaks: (from, to) => from.startsWith('dev/') && to.startsWith('workers/'),
  },
  {
    name: 'src/ (the main thread) imports nothing from workers/ or dev/',
    breaks: (from, to) => from.startsWith('src/') && /^(workers|dev)\//.test(to),
  },
];

/** Every import that breaks a folder rule, as `from -> to (rule)`. */
export function wrongWayImports(graph: ImportGraph): string[] {
  const found: string[] = [];
  for (const [from, imports] of graph) {
    for (const to of imports) for (const rule of FOLDER_RULES) if (rule.breaks(from, to)) found.push(`${from} -> ${to} (${rule.name})`);
  }
  return found;
}

/** The import circles: every strongly connected set of more than one file, or a file importing itself (Tarjan). */
export function importCircles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  let next = 0;
  const visit = (file: string) => {
    index.set(file, next);
    low.set(file, next++);
    stack.push(file);
    onStack.add(file);
    for (const to of graph.get(file) ?? []) {
      if (!graph.has(to)) continue;
      if (!index.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(file, Math.min(low.get(file)!, index.get(to)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const circle: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      circle.push(member);
    } while (member !== file);
    if (circle.length > 1 || graph.get(file)?.has(file)) circles.push(circle.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return circles;
}
