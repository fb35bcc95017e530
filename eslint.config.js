// Lint: TypeScript recommended rules everywhere, plus the purity rule of the host contract:
// protocol cores (src/core, src/protocols) never read a clock, draw ambient randomness, set a
// timer or touch Node I/O. Hosts (src/sim, src/net) inject all of those.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeIoModules = [
  'fs', 'fs/promises', 'net', 'dgram', 'http', 'https', 'http2', 'tls', 'child_process',
  'worker_threads', 'cluster', 'os', 'process', 'timers', 'timers/promises', 'perf_hooks', 'readline',
];
const bannedImports = nodeIoModules.flatMap((name) => [name, `node:${name}`]);

export const purityRules = {
  'no-restricted-properties': [
    'error',
    { object: 'Math', property: 'random', message: 'Cores are pure: use the injected seeded Rng.' },
    { object: 'Date', property: 'now', message: 'Cores are pure: time arrives as ticks.' },
    { object: 'performance', property: 'now', message: 'Cores are pure: time arrives as ticks.' },
    { object: 'process', property: 'hrtime', message: 'Cores are pure: time arrives as ticks.' },
  ],
  'no-restricted-globals': [
    'error',
    ...['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'clearTimeout', 'clearInterval', 'process', 'performance', 'fetch'].map(
      (name) => ({ name, message: `Cores are pure: ${name} belongs to the host.` }),
    ),
  ],
  'no-restricted-syntax': [
    'error',
    { selector: "NewExpression[callee.name='Date']", message: 'Cores are pure: time arrives as ticks.' },
    { selector: 'FunctionDeclaration[async=true], ArrowFunctionExpression[async=true], FunctionExpression[async=true]', message: 'Cores are synchronous: concurrency lives in the host.' },
  ],
  'no-restricted-imports': [
    'error',
    { paths: bannedImports.map((name) => ({ name, message: 'Cores are pure: I/O belongs to the host.' })) },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['src/core/**/*.ts', 'src/protocols/**/*.ts'],
    rules: purityRules,
  },
);
