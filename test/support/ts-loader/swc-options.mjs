/**
 * How TypeScript is compiled wherever it runs without a build: by Jest (jest.config.js) and by the
 * loader hooks of child processes (hooks.mjs). Legacy decorators with decorator metadata are what
 * Nest's type-based injection and TypeORM's decorators need; types are checked by `npm run typecheck`.
 */
export const SWC_OPTIONS = {
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    keepClassNames: true,
  },
  module: { type: 'es6' },
};
