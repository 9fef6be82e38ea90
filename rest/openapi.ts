import { z } from 'zod';
import { ROUTES } from './route.js';

const ERROR = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
      required: ['code', 'message'],
    },
  },
};

function jsonSchema(schema: z.ZodType): unknown {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  } catch {
    return { type: 'object' };
  }
}

/** The OpenAPI document, generated from the same zod schemas that validate requests. */
export function buildOpenApi(version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const path = `/api/v1${r.path.replace(/:(\w+)/g, '{$1}')}`;
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (r.query) {
      const qs = jsonSchema(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(qs.properties ?? {}))
        params.push({ name, in: 'query', required: (qs.required ?? []).includes(name), schema } as never);
    }
    if (r.idempotent)
      params.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      } as never);
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(r.responses ?? { 200: 'OK' })) responses[status] = { description };
    responses.default = { description: 'Error', content: { 'application/json': { schema: ERROR } } };
    (paths[path] ??= {})[r.method] = {
      summary: r.summary,
      tags: [r.tag],
      description: r.roles ? `Who: ${r.roles}` : undefined,
      security: r.access === 'public' ? [] : [{ bearer: [] }, { cookie: [] }],
      parameters: params,
      requestBody: r.body ? { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } } : undefined,
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Banking hub API',
      version,
      description: 'Amounts are decimal strings in the account currency. Errors: {error:{code,message,details?}}.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'bank_session' },
      },
    },
    paths,
  };
}

export const DOCS_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Banking hub API</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/api/docs.css"></head>
<body><header><h1>Banking hub API</h1><p>Generated from <a href="/api/openapi.json">/api/openapi.json</a>.</p></header><main id="docs">Loading…</main><script src="/api/docs.js"></script></body></html>`;

export const DOCS_CSS = `body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2733;background:#f5f7fa}header{background:#0b3d63;color:#fff;padding:16px 32px}header a{color:#cde}main{padding:16px 32px;max-width:1100px}
section{background:#fff;border:1px solid #dde3ea;border-radius:8px;margin:10px 0;padding:10px 16px}.m{display:inline-block;min-width:60px;font-weight:700;text-transform:uppercase}.get{color:#1a7f37}.post{color:#0b5cad}.patch{color:#9a6700}.delete{color:#c62828}
code{font-size:14px}h2{margin-top:28px}pre{background:#f0f3f6;padding:8px;overflow:auto;font-size:12px}details summary{cursor:pointer}`;

export const DOCS_JS = `fetch('/api/openapi.json').then(r=>r.json()).then(doc=>{const byTag={};for(const [p,ops] of Object.entries(doc.paths))for(const [m,op] of Object.entries(ops))(byTag[op.tags[0]]??=[]).push([m,p,op]);
const esc=s=>String(s??'').replace(/[&<>]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;'}[c]));let h='';for(const [tag,ops] of Object.entries(byTag)){h+='<h2>'+esc(tag)+'</h2>';for(const [m,p,op] of ops){h+='<section><span class="m '+m+'">'+m+'</span> <code>'+esc(p)+'</code> — '+esc(op.summary)+(op.description?' <em>('+esc(op.description)+')</em>':'');
if(op.requestBody)h+='<details><summary>Body</summary><pre>'+esc(JSON.stringify(op.requestBody.content['application/json'].schema,null,2))+'</pre></details>';h+='</section>';}}document.getElementById('docs').innerHTML=h;});`;
