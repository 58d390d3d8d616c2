// Summary of a V8 .cpuprofile (node --cpu-prof) per instance: self time by function and by
// source file, only of the samples inside the windows bench/ingest-profile.ts wrote
// (CLOCK_MONOTONIC microseconds, the profile's own clock), divided by the instances sent
// in them. V8 samples wall-clock time on the thread: a native call that blocks (a
// synchronous write) counts while it waits.
//
//   npx tsx bench/cpu-profile-summary.ts <file.cpuprofile> --windows windows.json [--top 40]
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { windows: { type: 'string' }, top: { type: 'string', default: '40' } } });
const profile = JSON.parse(fs.readFileSync(positionals[0], 'utf8')) as Profile;
const { count, windows } = values.windows
  ? (JSON.parse(fs.readFileSync(values.windows, 'utf8')) as { count: number; windows: Array<[number, number]> })
  : { count: 1, windows: [[0, Number.MAX_SAFE_INTEGER]] as Array<[number, number]> };
const instances = count * windows.length;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
let t = profile.startTime;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i];
  const dt = profile.timeDeltas[i + 1] ?? 0; // the sample stands for the interval after it
  if (!windows.some(([a, b]) => t >= a && t < b)) continue;
  selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
  total += dt;
}
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const file = url.replace(/^.*\/(src|node_modules)\//, '$1/') || `(native) ${functionName}`;
  const fn = `${functionName || '(anonymous)'} ${url ? `${file}:${lineNumber + 1}` : ''}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  byFile.set(file, (byFile.get(file) ?? 0) + us);
}
const ms = (us: number): string => (us / 1000 / instances).toFixed(3).padStart(7);
const idle = byFunction.get('(idle) ') ?? 0;
console.log(`${instances} instances in ${windows.length} window(s): ${ms(total)} ms/instance sampled, ${ms(total - idle)} not idle`);
console.log('-- self time by function (ms/instance)');
for (const [k, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(ms(us), k);
console.log('-- self time by file (ms/instance)');
for (const [k, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(ms(us), k);
