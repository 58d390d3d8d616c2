// How a bench ends, whichever way it goes: an error is printed and sets exit code 1, and
// the peers it started and its temp dirs are removed either way (a PACS or Orthanc child
// left running would skew the next bench on this machine).
import { stopAllPeers } from '../test/support/peers.js';
import { removeTempDirs } from '../test/support/tmp.js';

export function runBench(main: () => Promise<void>): void {
  main()
    .catch((e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    })
    .finally(async () => {
      await stopAllPeers();
      await removeTempDirs();
    });
}
