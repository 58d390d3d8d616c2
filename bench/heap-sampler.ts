// Allocation sampling for a server under bench/ingest-profile.ts --heap: loaded into the
// server's node with `--import tsx --import ./bench/heap-sampler.ts`, it starts V8's
// sampling heap profiler on the first SIGUSR2 (objects later collected by either GC
// counted too, so the profile is what was allocated, not what is live) and writes the
// profile to $HEAP_PROFILE_OUT on the second. bench/heap-profile-summary.ts reads it.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const out = process.env.HEAP_PROFILE_OUT ?? 'heap-profile.json';
const session = new Session();
session.connect();
let sampling = false;
process.on('SIGUSR2', () => {
  if (!sampling) {
    sampling = true;
    session.post('HeapProfiler.enable');
    session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    return;
  }
  sampling = false;
  session.post('HeapProfiler.stopSampling', (err, result) => {
    if (err) console.error(`heap sampler: ${err.message}`);
    else writeFileSync(out, JSON.stringify(result.profile));
  });
});
