// Bytes allocated per instance by allocation site, from a sampling heap profile
// (bench/heap-sampler.ts, bench/ingest-profile.ts --heap): the functions that allocated
// (self) and the three innermost frames of each site.
//   npx tsx bench/heap-profile-summary.ts /tmp/heap.json --instances 900 [--top 30]
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children?: ProfileNode[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { instances: { type: 'string' }, top: { type: 'string', default: '30' } } });
if (positionals.length !== 1 || !values.instances) throw new Error('usage: heap-profile-summary.ts <profile.json> --instances N');
const instances = Number(values.instances);
const top = Number(values.top);
const profile = JSON.parse(fs.readFileSync(positionals[0], 'utf8')) as { head: ProfileNode };

const bySelf = new Map<string, number>();
const bySite = new Map<string, number>();
let total = 0;
const name = (n: ProfileNode): string => {
  const file = n.callFrame.url.split('/').pop() ?? '';
  return `${n.callFrame.functionName || '(anonymous)'} ${file}:${n.callFrame.lineNumber + 1}`;
};
const add = (m: Map<string, number>, k: string, v: number): void => void m.set(k, (m.get(k) ?? 0) + v);
// Iterative: a deep async stack must not overflow ours.
const stack: Array<{ node: ProfileNode; frames: string[] }> = [{ node: profile.head, frames: [] }];
while (stack.length > 0) {
  const { node, frames } = stack.pop()!;
  const here = [name(node), ...frames].slice(0, 3);
  if (node.selfSize > 0) {
    total += node.selfSize;
    add(bySelf, here[0], node.selfSize);
    add(bySite, here.join(' < '), node.selfSize);
  }
  for (const child of node.children ?? []) stack.push({ node: child, frames: here });
}
const kb = (bytes: number): string => (bytes / instances / 1024).toFixed(1).padStart(7);
const print = (title: string, m: Map<string, number>): void => {
  console.log(title);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${kb(v)} KB  ${k}`);
};
console.log(`${kb(total)} KB allocated per instance (${instances} instances)`);
print('by function:', bySelf);
print('by site (innermost three frames):', bySite);
