/** Whether a TCP port can be listened on right now (for "a role's port not already in use"). */
import { createServer } from 'node:net';

export function portAvailable(port: number, host = '0.0.0.0'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}
