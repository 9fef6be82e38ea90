/**
 * The ceiling of the benchmark: a bare Koa app (one route answering {ok: true}) in a child
 * process, loaded with the same autocannon settings as the real server. Tells the runner its
 * URL over IPC.
 */
import Koa from 'koa';
import Router from '@koa/router';

const app = new Koa();
const router = new Router();
router.get('/ok', (ctx) => {
  ctx.body = { ok: true };
});
app.use(router.routes());
const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}/ok` });
});
process.on('disconnect', () => process.exit(0));
