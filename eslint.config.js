// Layering rules: the boundaries of ../shared/DESIGN.md, enforced as lint errors (like VS Code's layering rule).
import tseslint from 'typescript-eslint';

const node = ['node:*', 'fs', 'fs/*', 'path', 'os', 'net', 'tls', 'dgram', 'http', 'https', 'child_process', 'crypto', 'stream', 'events', 'url', 'util', 'worker_threads', 'ws', 'better-sqlite3'];

/** Import specifiers (gitignore-style: they match at any depth, for relative paths). @param {string[]} names @param {string} message */
const forbid = (names, message) => ({ group: names, message });
/** Bare package names only (a relative path that happens to contain `electron/` is not the package). @param {string[]} names @param {string} message */
const pkg = (names, message) => ({ regex: `^(${names.join('|')})(/.*)?$`, message });

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'release/**', 'coverage/**', 'test-artifacts/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      'no-restricted-imports': ['error', { patterns: [pkg(['jssip'], 'Only electron/device/sip/ may import jssip (DESIGN.md boundaries).')] }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-debugger': 'error',
    },
  },
  {
    files: ['electron/device/sip/**/*.ts', 'test/**/*.ts', '**/*.test.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    ignores: ['renderer/**/*.test.ts', 'renderer/**/*.test.tsx'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pkg(['electron', 'jssip'], 'renderer/ never imports Node, electron or jssip: talk to the DeviceApi (electron/api) only.'),
        forbid(node, 'renderer/ never imports Node: talk to the DeviceApi (electron/api) only.'),
        forbid(['**/electron/device/**', '**/electron/main/**', '**/electron/preload/**', '**/electron/web/**', '**/server/**'], 'renderer/ imports electron/api and protocol/ only.'),
      ] }],
    },
  },
  {
    files: ['electron/api/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pkg(['electron', 'jssip'], 'electron/api/ is the contract: no Node, no DOM, no electron.'),
        forbid(node, 'electron/api/ is the contract: no Node.'),
        forbid(['**/electron/device/**', '**/electron/main/**', '**/electron/preload/**', '**/electron/web/**', '**/server/**', '**/renderer/**'], 'electron/api/ imports protocol/ at most.'),
      ] }],
    },
  },
  {
    files: ['electron/device/**/*.ts'],
    ignores: ['electron/device/sip/**', 'electron/device/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pkg(['electron'], 'electron/device/ runs under plain Node: never import electron.'),
        pkg(['jssip'], 'Only electron/device/sip/ may import jssip.'),
        forbid(['**/server/**', '**/renderer/**', '**/electron/main/**'], 'electron/device/ may import protocol/ and electron/api/ only.'),
      ] }],
    },
  },
  {
    files: ['electron/device/sip/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pkg(['electron'], 'electron/device/ runs under plain Node: never import electron.'),
      ] }],
    },
  },
  {
    files: ['protocol/**/*.ts'],
    ignores: ['protocol/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pkg(['electron', 'jssip'], 'protocol/ is shared and I/O-free: no electron, no jssip.'),
        forbid(node, 'protocol/ is shared and I/O-free: no Node modules.'),
        forbid(['**/electron/**', '**/server/**', '**/renderer/**'], 'protocol/ imports neither electron/, server/ nor renderer/.'),
      ] }],
    },
  },
  {
    files: ['server/**/*.ts'],
    ignores: ['server/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pkg(['electron', 'jssip'], 'server/ never imports electron or jssip.'),
        forbid(['**/electron/**', '**/renderer/**'], 'server/ imports protocol/ only from the client side of the tree.'),
      ] }],
    },
  },
);
