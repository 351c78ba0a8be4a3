// @ts-check
import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// ---------------------------------------------------------------------------------------------
// Module arrows (docs/architecture.md §2), enforced with ESLint's own no-restricted-imports on
// the import string as written (every import in src/ is relative, so `(../)+` anchors it).
// One rule, several `files` blocks: a later block's no-restricted-imports REPLACES an earlier
// one's for the same file, so every block gets its complete list from importRules() below.
// Tests (test/**, *.spec.ts, the simulator's specs included) and bench/ are outside the arrows.
// ---------------------------------------------------------------------------------------------

const ARCH = 'docs/architecture.md §2';
const TEST_FILES = ['test/**/*.ts', '**/*.spec.ts'];

/** Every directory of src/modules/; a new module is off limits to the others until listed below. */
const MODULES = readdirSync(new URL('./src/modules', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

/**
 * The other modules each module may import (config, database, redis, queue and common: all).
 * Keep in step with the diagram in docs/architecture.md §2.
 * @type {Record<string, string[]>}
 */
const MODULE_ARROWS = {
  auth: [],
  twilio: [],
  delivery: ['auth', 'twilio'],
  messaging: ['auth', 'delivery', 'twilio'],
  webhooks: ['auth', 'delivery', 'twilio'],
  events: ['auth', 'delivery'],
  health: ['auth'],
  metrics: ['auth'],
  diagnostics: ['auth'],
};
/** A module not in the table yet is a feature module: auth, and nothing else. */
const DEFAULT_ARROWS = ['auth'];

/**
 * `../x`, `../../x`, `../../modules/x`, … followed by `/` or the end.
 * @param {string} alternatives
 */
const up = (alternatives) => `^(\\.\\./)+(${alternatives})(/|$)`;

const TWILIO_SDK_MESSAGE = `Only src/modules/twilio imports the twilio package (${ARCH}).`;

/**
 * The complete no-restricted-imports entry for one block.
 * @param {{ twilioSdk?: boolean, forbid?: { regex: string, message: string }[] }} options
 * @returns {import('eslint').Linter.RuleEntry}
 */
function importRules({ twilioSdk = true, forbid = [] }) {
  return [
    'error',
    {
      paths: [
        {
          name: '@nestjs/common',
          importNames: ['forwardRef'],
          message: `No forwardRef: a cycle between modules is a design error (${ARCH}).`,
        },
        ...(twilioSdk ? [{ name: 'twilio', message: TWILIO_SDK_MESSAGE }] : []),
      ],
      patterns: [
        ...(twilioSdk ? [{ group: ['twilio/*'], message: TWILIO_SDK_MESSAGE }] : []),
        ...forbid,
      ],
    },
  ];
}

const noSimulator = {
  regex: up('simulator'),
  message: `The simulator is Twilio's side: only src/bootstrap starts it (${ARCH}).`,
};
/** Infrastructure (config, database, redis, queue, common) sits below every module. */
const infrastructureForbids = [
  {
    regex: up('modules'),
    message: `config, database, redis, queue and common import nothing from src/modules (${ARCH}).`,
  },
  noSimulator,
  {
    regex: up('bootstrap|app\\.module|app\\.factory|worker\\.module|main'),
    message: `Only the composition root (src/main.ts, src/app.*, src/worker.module.ts, src/bootstrap) wires the app (${ARCH}).`,
  },
];

/** @param {string} name */
function moduleForbids(name) {
  const allowed = MODULE_ARROWS[name] ?? DEFAULT_ARROWS;
  const forbidden = MODULES.filter((other) => other !== name && !allowed.includes(other));
  return [
    ...(forbidden.length > 0
      ? [
          {
            regex: up(`(modules/)?(${forbidden.join('|')})`),
            message: `src/modules/${name} may import ${allowed.length > 0 ? allowed.join(', ') : 'no other module'} (and config, database, redis, queue, common) (${ARCH}).`,
          },
        ]
      : []),
    ...(allowed.includes('auth')
      ? [
          {
            // auth's surface for other modules: its guards, decorators and auth.types (Principal).
            regex: `^(\\.\\./)+(modules/)?auth/(?!([\\w.-]+\\.(guard|decorator)|auth\\.types)$)`,
            message: `Other modules use auth only through *.guard, *.decorator and auth.types (${ARCH}).`,
          },
        ]
      : []),
    noSimulator,
    {
      regex: up('bootstrap|app\\.module|app\\.factory|main'),
      message: `Modules never import the composition root (${ARCH}).`,
    },
  ];
}

const moduleArrowBlocks = [
  {
    // The composition root wires every module; it never loads the simulator itself.
    files: ['src/*.ts'],
    ignores: TEST_FILES,
    rules: { 'no-restricted-imports': importRules({ forbid: [noSimulator] }) },
  },
  {
    // The development bootstrap is the one place that starts the simulator.
    files: ['src/bootstrap/**/*.ts'],
    ignores: TEST_FILES,
    rules: { 'no-restricted-imports': importRules({}) },
  },
  {
    files: ['src/{common,config,database,redis,queue}/**/*.ts'],
    ignores: TEST_FILES,
    rules: { 'no-restricted-imports': importRules({ forbid: infrastructureForbids }) },
  },
  {
    // Twilio's stand-in shares no code with the app: it reads its settings through src/config.
    files: ['src/simulator/**/*.ts'],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-imports': importRules({
        forbid: [
          {
            regex: '^\\.\\./(?!config/)',
            message: `The simulator imports nothing from the app but src/config (${ARCH}).`,
          },
        ],
      }),
    },
  },
  ...MODULES.map((name) => ({
    files: [`src/modules/${name}/**/*.ts`],
    ignores: TEST_FILES,
    rules: {
      // The Twilio adapter owns the SDK.
      'no-restricted-imports': importRules({
        twilioSdk: name !== 'twilio',
        forbid: moduleForbids(name),
      }),
    },
  })),
];

export default tseslint.config(
  {
    ignores: [
      'examples/**',
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'bench/results/**',
      '*.mjs',
      '*.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        // Nest reads constructor parameter types at run time (emitDecoratorMetadata), so an
        // import used only in a decorated signature must stay a value import.
        {
          prefer: 'type-imports',
          fixStyle: 'separate-type-imports',
          disallowTypeAnnotations: false,
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // Everywhere (bench/, migrations/, scripts/); src/ gets the module arrows on top below.
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'twilio', message: TWILIO_SDK_MESSAGE }],
          patterns: [{ group: ['twilio/*'], message: TWILIO_SDK_MESSAGE }],
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration through src/config only.',
        },
      ],
    },
  },
  {
    // The config module is the only reader of process.env; scripts and tests set it up.
    files: [
      'src/config/**/*.ts',
      'test/**/*.ts',
      'bench/**/*.ts',
      'scripts/**/*.ts',
      '**/*.spec.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  ...moduleArrowBlocks,
  {
    // Tests may import anything, the twilio SDK included (to check signatures independently).
    files: TEST_FILES,
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: TEST_FILES,
    rules: {
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
