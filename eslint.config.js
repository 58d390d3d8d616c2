// ESLint over the server (src), the web app (ui/src), the example add-ins (plugins), tests, benches and scripts:
// `npm run lint`, and in `npm test`. Type-aware: each file is checked with the tsconfig
// nearest to it (tsconfig.json, or ui/tsconfig.json for the app), so the promise rules
// see real types. They matter most here: in a server full of streams and sockets a
// dropped promise loses its error (no-floating-promises), and an async callback handed
// to an emitter or a DOM listener rejects into nowhere (no-misused-promises).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      // Generated from the standard's tables by scripts/gen-dictionary.ts and gen-private-dictionary.ts.
      'src/dicom/generated/**',
      // Planted violations for test/lint: they must fail, so the real run leaves them out.
      'test/lint/fixtures/**',
    ],
  },
  {
    files: ['src/**/*.ts', 'ui/src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'plugins/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Rejecting with what a catch caught (unknown) is a rethrow, as `throw err` is.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // A number array prints as "1,2,3", which test messages rely on.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowArray: true }],
      // With verbatimModuleSyntax, `import { type X } from 'm'` still loads m (as `import {} from 'm'`),
      // yet the dependency lint counts it as type-only: `import type` is what is erased.
      '@typescript-eslint/no-import-type-side-effects': 'error',

      // Off where the recommended set fights the code base rather than finding bugs:
      // tsc's noUnusedLocals/noUnusedParameters report unused names already.
      '@typescript-eslint/no-unused-vars': 'off',
      // Values from the network, SQL rows and DICOM JSON arrive as any/unknown and are
      // checked by zod or by hand where they are read; these rules flag every such read.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // String(row.column) of an unknown SQL or JSON value is the intended conversion.
      '@typescript-eslint/no-base-to-string': 'off',
      // `async` without `await` is how an implementation of a Promise-returning interface
      // turns a throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      // DICOM text rules are about control characters: /[\x00-\x1f]/ is meant, every time.
      'no-control-regex': 'off',
    },
  },
);
