// The dependency lint (`npm run lint:deps`, and in `npm test`) over src, ui/src, test and bench.
// 1. Layer boundaries of DESIGN.md section 2: each src layer imports only the layers below it.
//    Order, bottom to top. archive and config additionally stay free of networking.
// 2. npm packages fenced by layer: the HTTP framework in web, the database drivers in archive.
// 3. The app (ui/src) and the server (src) meet only in types: ui/src may `import type` from src
//    (erased at compile time, so no server code reaches the browser), and src never imports ui.
//    The cruiser counts `import { type X }` as type-only too, though it still loads the module;
//    ESLint's no-import-type-side-effects turns those into `import type`.
// test/ and bench/ may import anything; they are cruised for cycles only.
const order = ['dicom', 'hl7', 'net', 'dimse', 'config', 'audit', 'archive', 'services', 'router', 'roles', 'web', 'cli'];
const above = (i) => order.slice(i + 1);
const rules = order.slice(0, -1).map((layer, i) => ({
  name: `${layer}-imports-down-only`,
  severity: 'error',
  comment: `src/${layer} may not import ${above(i).join(', ')}`,
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${above(i).join('|')})/` },
}));
// Matches the resolved file of an npm package wherever node_modules is (the test fixtures
// resolve it from a parent directory).
const npmPackage = (names) => `(^|/)node_modules/(${names})/`;
rules.push(
  { name: 'archive-knows-no-dimse', severity: 'error', from: { path: '^src/archive/' }, to: { path: '^src/(net|dimse)/' } },
  // The audit trail sits just above config so the services and the web can record to it;
  // it knows the registry and nothing else of the PACS (its sockets are its own, not net/'s).
  {
    name: 'audit-knows-only-config',
    severity: 'error',
    comment: 'src/audit builds and sends audit messages from plain event records: it imports config only',
    from: { path: '^src/audit/' },
    to: { path: '^src/', pathNot: '^src/(audit|config)/' },
  },
  { name: 'config-knows-no-network', severity: 'error', from: { path: '^src/config/' }, to: { path: '^src/(net|dimse|archive)/' } },
  // The router sends stored instances as the retrieve services do, through what both share
  // below them (archive/retrieval.ts), not through a service's internals.
  // SQL stays in archive/: the other layers see the index and its stores as typed interfaces
  // (index-types.ts, forward-queue.ts) and open it through open-index.ts.
  {
    name: 'sql-stays-in-archive',
    severity: 'error',
    from: { path: '^src/', pathNot: '^src/archive/' },
    to: { path: '^src/archive/(sql-types|index-sql|base-index|query-sql|forward-queue-sql|sqlite-index|postgres-index)[.]ts$' },
  },
  { name: 'router-beside-services', severity: 'error', from: { path: '^src/router/' }, to: { path: '^src/services/' } },
  {
    name: 'fastify-only-in-web',
    severity: 'error',
    comment: 'the HTTP framework stays in src/web; other layers are called by it, not built on it',
    from: { path: '^src/', pathNot: '^src/web/' },
    to: { path: npmPackage('fastify|@fastify/[^/]+') },
  },
  {
    name: 'database-drivers-only-in-archive',
    severity: 'error',
    comment: 'pg and better-sqlite3 stay behind the index interface in src/archive',
    from: { path: '^src/', pathNot: '^src/archive/' },
    to: { path: npmPackage('pg|better-sqlite3') },
  },
  {
    name: 'ui-imports-server-types-only',
    severity: 'error',
    comment: 'ui/src may take types from src (import type), never code (it runs in the browser), except the stand-alone API types and status catalogue',
    from: { path: '^ui/src/' },
    to: { path: '^src/', pathNot: '^src/(api-types/|dicom/status[.]ts$)', dependencyTypesNot: ['type-only'] },
  },
  {
    name: 'api-types-stand-alone',
    severity: 'error',
    comment: 'src/api-types is compiled into the browser app too: it imports nothing',
    from: { path: '^src/api-types/' },
    to: { pathNot: '^src/api-types/' },
  },
  {
    name: 'status-catalogue-stand-alone',
    severity: 'error',
    comment: 'src/dicom/status.ts is the one status catalogue of server and app alike: it imports nothing',
    from: { path: '^src/dicom/status[.]ts$' },
    to: {},
  },
  {
    name: 'server-knows-no-ui',
    severity: 'error',
    comment: 'src never imports the web app; it serves ui/dist as files',
    from: { path: '^src/' },
    to: { path: '^ui/' },
  },
  { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
);
module.exports = {
  forbidden: rules,
  options: {
    doNotFollow: { path: 'node_modules' },
    // Planted violations for test/lint: they must fail, so the real run leaves them out.
    exclude: { path: '^test/lint/fixtures/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
