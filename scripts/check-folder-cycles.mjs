/**
 * `npm run lint:cycles` (part of `npm run lint`): fails when two folders of libs/event-bus/src import
 * each other, directly or around a loop, so the layers stay one-way (shared → events → subscriptions
 * / store → core → store/typeorm / transport → nest → index).
 *
 * How: every .ts file under the source root is parsed with the TypeScript compiler (no type check),
 * and each relative module specifier it names — `import`, `import type`, `export … from` and
 * `import()` alike, since a type-only import ties two folders as much as a value one — becomes an
 * edge from the importing file's folder to the imported file's folder. Each folder is a node of its
 * own (`transport/bullmq` and `transport/bullmq/jobs` are two nodes). Tarjan's algorithm finds the
 * strongly connected components of that graph; any with more than one folder is a cycle, printed
 * with one import per edge so the offending lines are easy to find.
 */
import console from 'node:console';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '..', process.argv[2] ?? 'libs/event-bus/src');

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

function specifiers(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteral(argument)) found.push(argument.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found.filter((specifier) => specifier.startsWith('.'));
}

const folderOf = (file) => path.relative(root, path.dirname(file)) || '.';
/** folder → folder → one example import, for the report. */
const edges = new Map();
for (const file of sourceFiles(root)) {
  const from = folderOf(file);
  for (const specifier of specifiers(file)) {
    const to = folderOf(path.resolve(path.dirname(file), specifier));
    if (to === from || to.startsWith('..')) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${path.relative(root, file)} → ${specifier}`);
  }
}

// Tarjan's strongly connected components.
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const components = [];
let counter = 0;
function connect(folder) {
  index.set(folder, counter);
  low.set(folder, counter);
  counter += 1;
  stack.push(folder);
  onStack.add(folder);
  for (const next of edges.get(folder)?.keys() ?? []) {
    if (!index.has(next)) {
      connect(next);
      low.set(folder, Math.min(low.get(folder), low.get(next)));
    } else if (onStack.has(next)) {
      low.set(folder, Math.min(low.get(folder), index.get(next)));
    }
  }
  if (low.get(folder) === index.get(folder)) {
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== folder);
    components.push(component);
  }
}
for (const folder of edges.keys()) if (!index.has(folder)) connect(folder);

const cycles = components.filter((component) => component.length > 1);
if (cycles.length === 0) {
  console.log(`No import cycle between the ${index.size} folders of ${path.relative(process.cwd(), root)}.`);
  process.exit(0);
}
for (const cycle of cycles) {
  console.error(`Import cycle between folders: ${cycle.sort().join(', ')}`);
  for (const from of cycle) {
    for (const [to, example] of edges.get(from) ?? []) {
      if (cycle.includes(to)) console.error(`  ${from} → ${to}   (${example})`);
    }
  }
}
process.exit(1);
