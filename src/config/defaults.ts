/** The registry of a first start: five local AEs that work together with no editing (DESIGN.md section 1). */
import { PERMISSIONS, UNKNOWN_CALLER_PERMISSIONS, type Ae, type Registry } from './schema.js';

const ALL = [...PERMISSIONS];

function server(aeTitle: string, role: 'main' | 'workstation' | 'router', port: number, description: string, moveDestination = false): Ae {
  return {
    aeTitle,
    description,
    role,
    connection: { host: '0.0.0.0', port, tls: false },
    permissions: ALL,
    moveDestination,
    // Unknown callers may echo and store (a modality can send at once); finding, retrieving
    // and the workflow services need a registered AE (DESIGN.md section 8).
    policy: { strict: false, unknownCallers: [...UNKNOWN_CALLER_PERMISSIONS] },
  };
}

/** Our own calling AEs: every permission, accepted from loopback only (no `checkHost`: see schema.ts). */
function client(aeTitle: string, description: string): Ae {
  return { aeTitle, description, role: 'client', connection: { host: '127.0.0.1', tls: false }, permissions: ALL, moveDestination: false };
}

export function defaultRegistry(): Registry {
  return {
    schemaVersion: 1,
    revision: 1,
    web: { host: '0.0.0.0', port: 8080 },
    devices: [
      {
        name: 'open-pacs',
        description: 'this PACS',
        local: true,
        aes: [
          server('PACS', 'main', 11112, 'Main Server: archive, query/retrieve'),
          server('WORKSTATION', 'workstation', 11113, "Workstation Server: the viewer's local store", true),
          server('ROUTER', 'router', 11114, 'Router: forwards what it receives by rules'),
          client('PACS_CLIENT', 'command line and web study browser'),
          client('WS_CLIENT', "the viewer's query/retrieve"),
        ],
      },
    ],
  };
}
