import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';
import eslintConfigPrettier from 'eslint-config-prettier';

// Which way imports may point (DESIGN.md "The house"): rest/, hub/ and jobs/ → runtime/ →
// bank/ → db/. bank/ is the domain: no HTTP, sockets or jobs. The three runtime layers share
// only runtime/ (metrics, service wiring, cookie name), never each other. Migrations belong to
// db/migrate.ts. shared/ holds the event types server and client both use, and client/ reaches
// the server only through them (and HTTP and the socket). server.ts wires everything.
// Patterns match the import as written: any number of `../`, then a top-level folder or module.
const above = (names) => `^(\\.\\./)+(${names.join('|')})(/|\\.js$|\\.ts$|$)`;
const SERVER_ROOT = ['server'];
const layer = (files, forbidden, message, extra = []) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [{ regex: above([...forbidden, ...SERVER_ROOT]), message }, ...extra],
      },
    ],
  },
});
/** Outside bank/, a domain is reached through its index (bank/<domain>/index.js), its public face. */
const viaIndex = {
  regex: '^(\\.{1,2}/)+bank/([^/]+\\.(js|ts)$|[^/]+/(?!index\\.js$))',
  message: 'Reach a bank/ domain through its index (bank/<domain>/index.js): its other files are its own.',
};
const noMigrations = {
  regex: '^(\\.\\./)+db/migrations(/|$)',
  message: "Migrations are db/migrate.ts's alone: put a shared constant in db/constants.ts.",
};
const ARROWS = [
  layer(
    ['bank/**'],
    ['rest', 'hub', 'jobs', 'runtime', 'client'],
    'bank/ is the domain: it never imports rest/, hub/, jobs/ or runtime/ (nor the client). Return results and record events; the runtime layers deliver them.',
    [noMigrations],
  ),
  layer(
    ['db/**'],
    ['bank', 'rest', 'hub', 'jobs', 'runtime', 'client'],
    'db/ is below bank/: it never imports bank/, rest/, hub/, jobs/ or runtime/ (nor the client).',
  ),
  layer(
    ['runtime/**'],
    ['rest', 'hub', 'jobs', 'client'],
    'runtime/ is what rest/, hub/ and jobs/ share: it never imports them (nor the client).',
    [noMigrations, viaIndex],
  ),
  layer(
    ['rest/**'],
    ['hub', 'jobs', 'client'],
    'rest/ never imports hub/ or jobs/ (nor the client): what the runtime layers share lives in runtime/, the rules in bank/.',
    [noMigrations, viaIndex],
  ),
  layer(
    ['hub/**'],
    ['rest', 'jobs', 'client'],
    'hub/ never imports rest/ or jobs/ (nor the client): what the runtime layers share lives in runtime/, the rules in bank/.',
    [noMigrations, viaIndex],
  ),
  layer(
    ['jobs/**'],
    ['rest', 'hub', 'client'],
    'jobs/ never imports rest/ or hub/ (nor the client): what the runtime layers share lives in runtime/, the rules in bank/.',
    [noMigrations, viaIndex],
  ),
  {
    files: ['server.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ ...viaIndex, regex: viaIndex.regex.replace('(\\.{1,2}/)+', '\\./') }] }] },
  },
  layer(
    ['shared/**'],
    ['bank', 'db', 'rest', 'hub', 'jobs', 'runtime', 'client', 'config', 'log'],
    'shared/ is types the server and the client both use: it imports nothing of either.',
  ),
  layer(
    ['client/**'],
    ['bank', 'db', 'rest', 'hub', 'jobs', 'runtime', 'config', 'log', 'tests'],
    'client/ talks to the server over HTTP and the socket: of the server it imports only shared/ (types).',
  ),
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'client/dist/**', 'data/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' } },
    rules: {
      // vue-tsc checks names (browser globals included); ESLint's own check does not know the DOM types.
      'no-undef': 'off',
      // Formatting is not the linter's job here; these conflict with the house layout.
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/first-attribute-linebreak': 'off',
      'vue/attributes-order': 'off',
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Layout is Prettier's (npm run format; npm run lint checks it): no ESLint rule argues with it.
  eslintConfigPrettier,
  ...ARROWS,
);
