/** The comparison for single-record GETs: a bare Fastify route returning the same JSON from memory. */
import Fastify from 'fastify';

const body = process.env.BODY ?? '{}';
const app = Fastify({ logger: false });
app.get('/groups/:groupID', async (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(address);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
