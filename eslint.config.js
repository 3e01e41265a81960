// ESLint flat config (docs/style.md §5): typescript-eslint's type-checked rules for every .ts file in tsconfig.json,
// plus per-folder no-restricted-imports that enforce the one-way layering of docs/style.md §2.
// Every linted .ts file must be in tsconfig.json's program, except client/ (the browser add-on), whose block points
// parserOptions.project at its own tsconfigs (DOM / WebWorker libs, no Node types).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Node built-ins, bare and `node:`-prefixed, for folders that must stay runtime-agnostic. */
const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));
const noNodeImports = [
  { regex: '^node:', message: 'Runtime-agnostic folder: no node:* imports (docs/style.md §2).' },
  ...nodeBuiltins.map((m) => ({
    regex: `^${m.replace(/[/.]/g, '\\$&')}(/.*)?$`,
    message: 'Runtime-agnostic folder: no Node built-ins (docs/style.md §2).',
  })),
];
const noNodeGlobals = ['Buffer', 'process', 'global', 'require', '__dirname', '__filename', 'setImmediate'].map(
  (name) => ({ name, message: 'Runtime-agnostic folder: no Node globals (docs/style.md §2).' }),
);

/** A relative import (any depth of `../`) that reaches `src/<folder>`, except the listed interface files. */
function intoSrcFolder(folder, message, allowed = []) {
  const except = allowed.length > 0 ? `(?!(${allowed.join('|')})(\\.js)?$)` : '';
  return { regex: `^(\\.\\./)+${folder}(/${except}|$)`, message };
}

/** Node globals for the few plain .js/.mjs scripts (not type-checked, so no-undef still applies to them). */
const nodeScriptGlobals = Object.fromEntries(
  ['process', 'console', 'URL', 'Buffer', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'].map((g) => [
    g,
    'readonly',
  ]),
);

export default defineConfig(
  {
    ignores: ['dist/**', 'node_modules/**', 'src/protocol/gen/**', 'src/core/control/gen/**', 'src/grpc/gen/**', 'coverage/**', 'bench/results/**', 'tmp/**', 'client/dist/**'],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // A `default:` does not excuse a missing union member (docs/style.md §4.5: list every case, end in assertNever).
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: false, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-call': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      '@typescript-eslint/no-unsafe-declaration-merging': 'error',
      '@typescript-eslint/no-unsafe-enum-comparison': 'error',
      '@typescript-eslint/no-unsafe-unary-minus': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // Numbers, booleans and bigints read fine in messages; objects/unknown/nullish still get flagged.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: false, allowAny: false },
      ],
    },
  },

  {
    // The admin web UI: browser code with its own tsconfig (DOM libs, no Node), bundled by esbuild.
    files: ['src/admin/ui/**/*.ts'],
    languageOptions: {
      parserOptions: { project: './src/admin/ui/tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(\\.\\./){2,}', message: 'The admin UI imports only its own files.' }, ...noNodeImports] }],
      'no-restricted-globals': ['error', ...noNodeGlobals],
    },
  },

  // ---- Layering (docs/style.md §2): imports point one way only. ----
  {
    // protocol: runtime-agnostic, imports nothing of ours (only ./ siblings and ./gen).
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\.\\./', message: 'src/protocol imports nothing outside src/protocol (docs/style.md §2).' },
            ...noNodeImports,
          ],
        },
      ],
      'no-restricted-globals': ['error', ...noNodeGlobals],
    },
  },
  {
    // engines: protocol, engines/types, util only; never core, transports or the HTTP/API layers.
    files: ['src/engines/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            intoSrcFolder('core', 'src/engines never import src/core (docs/style.md §2).'),
            intoSrcFolder('transports', 'src/engines never import transports (docs/style.md §2).'),
            intoSrcFolder('(api|http|admin|cli)', 'src/engines never import the API/HTTP/CLI layers (docs/style.md §2).'),
            { regex: '^(\\.\\./)+app(\\.js)?$', message: 'Only main.ts/cli may import the composition root.' },
          ],
        },
      ],
    },
  },
  {
    // core: interface files only, never a concrete engine or transport.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            intoSrcFolder('engines', 'src/core never imports a concrete engine; use engines/types (docs/style.md §2).', [
              'types',
              'map-types',
            ]),
            intoSrcFolder(
              'transports',
              'src/core never imports a concrete transport; use transports/types (docs/style.md §2).',
              ['types'],
            ),
            intoSrcFolder('(api|http|admin|cli)', 'src/core never imports the API/HTTP/CLI layers (docs/style.md §2).'),
            intoSrcFolder('proxy', 'src/core uses proxies through the context: proxy/types, outcome and none only.', [
              'types',
              'outcome',
              'none',
            ]),
            { regex: '^(\\.\\./)+app(\\.js)?$', message: 'Only main.ts/cli may import the composition root.' },
          ],
        },
      ],
    },
  },
  {
    // transports: protocol, transports/types and the session port they feed (core/types), never core internals.
    files: ['src/transports/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            intoSrcFolder('core', 'Transports use the session port in core/types only (docs/style.md §2).', ['types']),
            intoSrcFolder('engines', 'Transports never import engines (docs/style.md §2).'),
            { regex: '^(\\.\\./)+app(\\.js)?$', message: 'Only main.ts/cli may import the composition root.' },
          ],
        },
      ],
    },
  },
  {
    // core has no value-level import circle: only node.ts creates sessions, so only it imports session.ts as a value
    // (the others take the type); session.ts gets the command dispatcher through the context, never by import.
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/node.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\./|(\\.\\./)+)session(\\.js)?$',
              allowTypeImports: true,
              message: 'Type-only imports of core/session.ts outside node.ts (no import circle).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/core/session.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\./commands/',
              allowTypeImports: true,
              message: 'session.ts runs commands through ctx.dispatch, never by importing the handlers.',
            },
          ],
        },
      ],
    },
  },
  {
    // api: the server API over the NodeApi facade (core/types), never core internals, engines or transports.
    files: ['src/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            intoSrcFolder('core', 'src/api uses the NodeApi facade in core/types only (docs/style.md §2).', ['types']),
            intoSrcFolder('engines', 'src/api never imports a concrete engine (docs/style.md §2).', ['types', 'map-types']),
            intoSrcFolder('(transports|admin|cli)', 'src/api never imports transports, admin or the CLI (docs/style.md §2).'),
            { regex: '^(\\.\\./)+app(\\.js)?$', message: 'Only main.ts/cli may import the composition root.' },
          ],
        },
      ],
    },
  },
  {
    // grpc: the GRPC API (a codec over src/api's executor) and the uni_grpc transport (over the session port).
    files: ['src/grpc/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            intoSrcFolder('core', 'src/grpc uses the NodeApi facade and session port in core/types only (docs/style.md §2).', ['types']),
            intoSrcFolder('engines', 'src/grpc never imports a concrete engine (docs/style.md §2).', ['types']),
            intoSrcFolder('(admin|cli)', 'src/grpc never imports admin or the CLI (docs/style.md §2).'),
            { regex: '^(\\.\\./)+app(\\.js)?$', message: 'Only main.ts/cli may import the composition root.' },
          ],
        },
      ],
    },
  },
  {
    // http: plain HTTP plumbing (servers, the listening front, router, health, metrics endpoint). It knows no node,
    // API or CLI; from transports only the request-head parser the front shares with the upgrade path.
    files: ['src/http/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            intoSrcFolder('(core|api|admin|cli)', 'src/http never imports the node, API, admin or CLI (docs/style.md §2).'),
            intoSrcFolder('engines', 'src/http never imports a concrete engine (docs/style.md §2).', ['types']),
            intoSrcFolder('transports', 'src/http uses only transports/handshake (request-head parsing).', ['handshake']),
            { regex: '^(\\.\\./)+app(\\.js)?$', message: 'Only main.ts/cli may import the composition root.' },
          ],
        },
      ],
    },
  },
  {
    // auth: token verification from its config slice; nothing of the node, engines, transports or HTTP layers.
    files: ['src/auth/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            intoSrcFolder(
              '(core|engines|transports|api|http|admin|cli|metrics)',
              'src/auth depends on config types, protocol and util only (docs/style.md §2).',
            ),
            { regex: '^(\\.\\./)+app(\\.js)?$', message: 'Only main.ts/cli may import the composition root.' },
          ],
        },
      ],
    },
  },
  {
    // proxy: calls to the application backend, from config types, protocol errors and JSON; never the node,
    // engines, transports or the HTTP/API layers (the core reaches it through the context, never the reverse).
    files: ['src/proxy/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            intoSrcFolder(
              '(core|engines|transports|api|http|admin|cli|auth)',
              'src/proxy depends on config types, protocol and util only (docs/style.md §2).',
            ),
            { regex: '^(\\.\\./)+app(\\.js)?$', message: 'Only main.ts/cli may import the composition root.' },
          ],
        },
      ],
    },
  },
  {
    // config and metrics are leaves: nothing of ours but util.
    files: ['src/config/**/*.ts', 'src/metrics/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(\\.\\./)+(?!util/)', message: 'src/config and src/metrics import nothing of ours but src/util (docs/style.md §2).' },
          ],
        },
      ],
    },
  },
  {
    // loadtest: may import src/protocol only (and nothing from test/ or bench/).
    files: ['loadtest/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+src/(?!protocol/)',
              message: 'loadtest/ may import src/protocol only (docs/style.md §2).',
            },
            { regex: '^(\\.\\./)+(test|bench)/', message: 'loadtest/ never imports tests or benches.' },
          ],
        },
      ],
    },
  },

  // ---- Browser add-on (client/): its own programs (DOM libs; WebWorker libs for the worker entry). ----
  {
    files: ['client/src/**/*.ts'],
    languageOptions: {
      parserOptions: {
        project: ['./client/tsconfig.json', './client/tsconfig.worker.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(\\.\\./)+(src|test|bench|loadtest)/', message: 'client/ is a browser package: it imports nothing of the server.' },
            ...noNodeImports,
          ],
        },
      ],
      'no-restricted-globals': ['error', ...noNodeGlobals],
    },
  },

  // ---- Tests: relaxed where the relaxation buys clarity, never for promises or `any` in signatures. ----
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests index into fixtures and replies they have just asserted on; `!` is the readable form there.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Tests poke at JSON.parse()d wire frames and HTTP bodies, then assert on the values: the assertion is the
      // validation. `no-explicit-any`, `no-unsafe-call`, `no-unsafe-argument` and promise rules stay on.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // node:test's describe()/it() return promises that the runner tracks; awaiting them is not required.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
    },
  },

  // ---- Plain JS (scripts/, bin/, this file): not in tsconfig.json, so no type-aware rules. ----
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: nodeScriptGlobals,
    },
  },
);
