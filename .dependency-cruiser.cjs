// Layer boundaries of DESIGN.md section 2: each layer imports only the layers below it.
// Order, bottom to top. archive and config additionally stay free of networking.
const order = ['dicom', 'net', 'dimse', 'config', 'archive', 'services', 'router', 'roles', 'web', 'cli'];
const above = (i) => order.slice(i + 1);
const rules = order.slice(0, -1).map((layer, i) => ({
  name: `${layer}-imports-down-only`,
  severity: 'error',
  comment: `src/${layer} may not import ${above(i).join(', ')}`,
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${above(i).join('|')})/` },
}));
rules.push(
  { name: 'archive-knows-no-dimse', severity: 'error', from: { path: '^src/archive/' }, to: { path: '^src/(net|dimse)/' } },
  { name: 'config-knows-no-network', severity: 'error', from: { path: '^src/config/' }, to: { path: '^src/(net|dimse|archive)/' } },
  // The router sends stored instances as the retrieve services do, through what both share
  // below them (archive/retrieval.ts), not through a service's internals.
  // SQL stays in archive/: the other layers see the index and its stores as typed interfaces
  // (index-types.ts, forward-queue.ts) and open it through open-index.ts.
  {
    name: 'sql-stays-in-archive', severity: 'error', from: { pathNot: '^src/archive/' },
    to: { path: '^src/archive/(sql-types|index-sql|base-index|query-sql|forward-queue-sql|sqlite-index|postgres-index)[.]ts$' },
  },
  { name: 'router-beside-services', severity: 'error', from: { path: '^src/router/' }, to: { path: '^src/services/' } },
  { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
);
module.exports = {
  forbidden: rules,
  options: { doNotFollow: { path: 'node_modules' }, tsPreCompilationDeps: true, tsConfig: { fileName: 'tsconfig.json' } },
};
