/**
 * `node dist/bench/profile-summary.js <file.cpuprofile> [top]`: where a benchmark's CPU went, from
 * a profile written by `node --cpu-prof`, on a machine with no DevTools at hand. Self time by
 * part (the library's files, each package, Node's internals, GC), then the hottest functions.
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArgument] = process.argv.slice(2);
if (!file) {
  console.error('usage: node dist/bench/profile-summary.js <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArgument ?? 25);
const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;

// Self time per node: each sample's time delta belongs to the node on top of the stack.
const selfMicros = new Map<number, number>();
profile.samples.forEach((nodeId, index) => {
  selfMicros.set(nodeId, (selfMicros.get(nodeId) ?? 0) + (profile.timeDeltas[index] ?? 0));
});
const byPart = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const micros = selfMicros.get(node.id) ?? 0;
  if (micros === 0) continue;
  total += micros;
  const part = partOf(node.callFrame.url, node.callFrame.functionName);
  byPart.set(part, (byPart.get(part) ?? 0) + micros);
  const name = `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
}

const rows = (map: Map<string, number>, limit: number) =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, micros]) => ({
      name,
      'self ms': Math.round(micros / 1000),
      share: `${((100 * micros) / total).toFixed(1)}%`,
    }));

console.log(`${file}: ${Math.round(total / 1000)} ms sampled`);
console.table(rows(byPart, 40));
console.table(rows(byFunction, top));

/** The library's own files by path, packages by name, everything else by kind. */
function partOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const library = /libs\/event-bus\/(?:dist|src)\/(.+)$/.exec(url);
  if (library) return `library: ${library[1].replace(/\.js$/, '')}`;
  const packages = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  if (packages.length > 0) return `package: ${packages[packages.length - 1][1]}`;
  if (url.startsWith('node:')) return 'node internals';
  if (/\/bench\//.test(url)) return 'benchmark harness';
  return url;
}

function shortUrl(url: string): string {
  return url
    .replace(/^file:\/\//, '')
    .replace(/^.*node_modules\//, '')
    .replace(/^.*\/libs\/event-bus\//, '');
}
