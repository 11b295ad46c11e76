import { existsSync, readFileSync } from 'node:fs';
import { Controller, Get, Header } from '@nestjs/common';
import { fileURLToPath } from 'node:url';

/**
 * The page at `/`: plain HTML and a little JavaScript that calls the API, no front-end build.
 * The files live in apps/workflow-engine/public/. The TypeScript compiler copies no assets, so the
 * compiled app (dist/apps/workflow-engine/src/…) reads them from the sources' folder too.
 */
const PUBLIC_DIR = [
  new URL('../../../public/', import.meta.url),
  new URL('../../../../../../apps/workflow-engine/public/', import.meta.url),
]
  .map((url) => fileURLToPath(url))
  .find((dir) => existsSync(`${dir}index.html`));

function asset(name: string): string {
  if (!PUBLIC_DIR) throw new Error('apps/workflow-engine/public/ is missing: the page cannot be served');
  return readFileSync(`${PUBLIC_DIR}${name}`, 'utf8');
}

@Controller()
export class PageController {
  // Read once: a handful of small files.
  private readonly files = { html: asset('index.html'), js: asset('app.js'), css: asset('app.css') };

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  index(): string {
    return this.files.html;
  }

  @Get('app.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  script(): string {
    return this.files.js;
  }

  @Get('app.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  styles(): string {
    return this.files.css;
  }
}
