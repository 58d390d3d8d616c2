// The dependency lint (`npm run lint:deps`, and in `npm test`) over src, ui/src, test and bench.
// 1. Layer boundaries of DESIGN.md section 2: each src layer imports only the layers below it.
//    Order, bottom to top. archive and config additionally stay free of networking.
// 2. npm packages fenced by layer: the HTTP framework in web, the database drivers in archive.
// 3. The app (ui/src) and the server (src) meet only in types: ui/src may `import type` from src
//    (erased at compile time, so no server code reaches the browser), and src never imports ui.
//    The cruiser counts `import { type X }` as type-only too, though it still loads the module;
//    ESLint's no-import-type-side-effects turns those into `import type`.
// test/ and bench/ may import anything; they are cruised for cycles only.
const order = ['dicom', 'net', 'dimse', 'config', 'archive', 'services', 'router', 'roles', 'web', 'cli'];
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
  { name: 'config-knows-no-network', severity: 'error', from: { path: '^src/config/' }, to: { path: '^src/(net|dimse|archive)/' } },
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
    comment: 'ui/src may take types from src (import type), never code: it runs in the browser',
    from: { path: '^ui/src/' },
    to: { path: '^src/', dependencyTypesNot: ['type-only'] },
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
