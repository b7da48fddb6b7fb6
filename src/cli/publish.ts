/**
 * `herald publish --session sess_… --type security "text"`: POST /api/agent-messages
 * (docs/protocol.md, section 6) against a running Herald, with a credential that has the
 * `agent:publish` scope. Prints the 202 answer as JSON; a refusal exits 1 naming its code.
 */
import { AGENT_TYPES, GUARANTEES, PRIORITIES } from '../protocol/agent-message.js';
import { type Command, choice, duration, EXIT, Failure, parse, required, UsageError } from './args.js';
import { CLIENT_HELP, CLIENT_OPTIONS, clientFrom, refused, unreachable, urlOf } from './client.js';

const help = `Usage: herald publish (--session <id> | --user <id>) --type <type> [options] <text | ->

Publishes an agent message into a session (or into every session of a user) of a running
Herald, as POST /api/agent-messages. The credential needs the agent:publish scope. "-" reads the
text from stdin. Prints Herald's answer ({"id","seq","sessionIds",…}) as one JSON line.

Options:
  --session <id>            the target session
  --user <id>               or: every session of this user
  --type <type>             ${AGENT_TYPES.join(', ')} (required)
  --source <name>           the component speaking (default "cli")
  --priority <p>            ${PRIORITIES.join(', ')} (default: the type's)
  --guarantee <g>           ${GUARANTEES.join(', ')} (default: the type's)
  --ttl <duration>          how long it may be delivered: 30s, 5m, 1h; a bare number is ms
  --idempotency-key <key>   a repeat with the same key within the ttl makes nothing new
  --correlation-id <id>     what it is about (a user message id, …)
  --data <json>             a JSON object to attach
${CLIENT_HELP}  -h, --help                this help

Exit status: 0 admitted (202), 1 refused by Herald or Herald unreachable, 2 bad usage.
`;

async function readStdin(): Promise<string> {
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

export const publish: Command = {
  summary: 'publish an agent message into a session of a running Herald',
  help,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        session: { type: 'string' },
        user: { type: 'string' },
        type: { type: 'string' },
        source: { type: 'string', default: 'cli' },
        priority: { type: 'string' },
        guarantee: { type: 'string' },
        ttl: { type: 'string' },
        'idempotency-key': { type: 'string' },
        'correlation-id': { type: 'string' },
        data: { type: 'string' },
        ...CLIENT_OPTIONS,
      },
      true,
    );
    if (values.help) {
      process.stdout.write(help);
      return EXIT.ok;
    }
    if ((values.session === undefined) === (values.user === undefined))
      throw new UsageError('give exactly one of --session and --user');
    const target = values.session !== undefined ? { sessionId: values.session } : { userId: values.user };
    const agentType = choice(required(values.type, '--type'), '--type', AGENT_TYPES);
    if (positionals.length === 0) throw new UsageError('the message text is required ("-" reads stdin)');
    if (positionals.length > 1)
      throw new UsageError(`one text argument, got ${positionals.length} (quote the text)`);
    const client = clientFrom(values);

    const body: Record<string, unknown> = { target, agentType, source: values.source };
    if (values.priority !== undefined) body.priority = choice(values.priority, '--priority', PRIORITIES);
    if (values.guarantee !== undefined)
      body.deliveryGuarantee = choice(values.guarantee, '--guarantee', GUARANTEES);
    if (values.ttl !== undefined) body.ttl = duration(values.ttl, '--ttl', 'ms');
    if (values['idempotency-key'] !== undefined) body.idempotencyKey = values['idempotency-key'];
    if (values['correlation-id'] !== undefined) body.correlationId = values['correlation-id'];
    if (values.data !== undefined) {
      try {
        body.data = JSON.parse(values.data);
      } catch {
        throw new UsageError('--data is not valid JSON');
      }
    }
    body.content = positionals[0] === '-' ? await readStdin() : positionals[0];

    const url = urlOf(client, '/api/agent-messages');
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { ...client.headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (err) {
      throw unreachable(url, err);
    }
    if (!res.ok) throw await refused(res);
    const answer = await res.text();
    try {
      process.stdout.write(`${JSON.stringify(JSON.parse(answer))}\n`);
    } catch {
      throw new Failure(`HTTP ${res.status} with a body that is not JSON`);
    }
    return EXIT.ok;
  },
};
