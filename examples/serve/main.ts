#!/usr/bin/env node
// npm run serve -- --model FILE [options]: the example service on a loopback port until SIGTERM or
// SIGINT, which drain it (in-flight requests answered, the Batcher closed) and exit 0.
import { parseArgs } from 'util';
import { setNumThreads, useBackend } from 'cellscan';
import { MODES, type Mode, ModelError } from './model';
import { type ServiceOptions, createService } from './server';

const USAGE = `npm run serve -- --model FILE [options]

  --model FILE          a checkpoint of \`cellscan train\` or a .safetensors state dict of an LSTM/GRU/RNN
  --prefix P            the layer's parameters are named P + weight_ih_l0 ... (default: found in the file)
  --mode M              lstm | gru | rnn | rnn_tanh | rnn_relu, when the shapes do not tell (or to insist)
  --host H              default 127.0.0.1
  --port N              default 8080; 0 picks a free port (printed)
  --no-batcher          run each request alone (one forwardAsync each), no Batcher; same as --batch off
  --max-batch N         Batcher: most requests merged into one forward (64)
  --max-delay-ms MS     Batcher: longest wait for company (2)
  --max-queue N         Batcher: most requests waiting before 503 (4096)
  --max-body-bytes N    largest request body (4194304)
  --max-steps N         most time steps in a /v1/forward request (1024)
  --max-step-steps N    most time steps in one /v1/step call (64)
  --max-sessions N      streaming sessions held, least recently used dropped first (10000)
  --session-ttl S       seconds an idle session is kept (600)
  --backend B           auto | native | wasm
  --threads N           threads of the backend`;

class UsageError extends Error {}

function positive(values: Record<string, unknown>, key: string, integer = true, allowZero = false): number | undefined {
  const v = values[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < 0 || (n === 0 && !allowZero)) {
    throw new UsageError(`--${key} must be a ${allowZero ? 'non-negative' : 'positive'} ${integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function options(argv: string[]): ServiceOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      prefix: { type: 'string' },
      mode: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'no-batcher': { type: 'boolean' },
      batch: { type: 'string' },
      'max-batch': { type: 'string' },
      'max-delay-ms': { type: 'string' },
      'max-queue': { type: 'string' },
      'max-body-bytes': { type: 'string' },
      'max-steps': { type: 'string' },
      'max-step-steps': { type: 'string' },
      'max-sessions': { type: 'string' },
      'session-ttl': { type: 'string' },
      backend: { type: 'string' },
      threads: { type: 'string' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (!values.model) throw new UsageError('--model FILE is required');
  if (values.mode !== undefined && !MODES.includes(values.mode as Mode)) {
    throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got ${JSON.stringify(values.mode)}`);
  }
  if (values.batch !== undefined && values.batch !== 'on' && values.batch !== 'off') {
    throw new UsageError(`--batch must be on or off, got ${JSON.stringify(values.batch)}`);
  }
  if (values.backend !== undefined) useBackend(values.backend as 'auto');
  const threads = positive(values, 'threads');
  if (threads !== undefined) setNumThreads(threads);
  const port = positive(values, 'port', true, true) ?? 8080;
  if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
  const ttl = positive(values, 'session-ttl', false);
  return {
    model: values.model,
    prefix: values.prefix,
    mode: values.mode as Mode | undefined,
    host: values.host,
    port,
    batcher: values['no-batcher'] || values.batch === 'off'
      ? false
      : {
          maxBatch: positive(values, 'max-batch'),
          maxDelayMs: positive(values, 'max-delay-ms', false, true),
          maxQueue: positive(values, 'max-queue'),
        },
    maxBodyBytes: positive(values, 'max-body-bytes'),
    maxSteps: positive(values, 'max-steps'),
    maxStepSteps: positive(values, 'max-step-steps'),
    maxSessions: positive(values, 'max-sessions'),
    sessionTtlMs: ttl === undefined ? undefined : ttl * 1000,
  };
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const o = options(argv);
  const service = await createService(o);
  const m = service.model;
  const shape = `${m.cell.toUpperCase()} ${m.numLayers}x${m.hiddenSize}${m.bidirectional ? ' bidirectional' : ''}${m.projSize ? ` proj ${m.projSize}` : ''}, input ${m.inputSize}`;
  const b = service.batcher;
  const batching = b ? `Batcher maxBatch ${b.maxBatch}, maxDelayMs ${b.maxDelayMs}, maxQueue ${b.maxQueue}` : 'no Batcher (one forward per request)';
  console.log(`cellscan-serve: ${shape} from ${m.file} (${m.source}); ${batching}`);
  // The last line a launcher waits for: it carries the bound port (--port 0 picks one).
  console.log(`cellscan-serve: listening on ${service.url}`);

  let signalled = false;
  const stop = (signal: string) => {
    if (signalled) {
      console.error(`cellscan-serve: ${signal} again: exiting without draining`);
      process.exit(1);
    }
    signalled = true;
    console.log(`cellscan-serve: ${signal}: draining, ${service.inFlight()} request(s) in flight`);
    service.close().then(
      () => {
        console.log('cellscan-serve: drained, exiting');
        process.exit(0);
      },
      (e: unknown) => {
        console.error(`cellscan-serve: draining failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main(process.argv.slice(2)).catch((e: unknown) => {
  const err = e as Error & { code?: string };
  // The user's to fix: one line and the usage, exit 2 (as the cellscan CLI does).
  if (e instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`cellscan-serve: ${err.message}\n\n${USAGE}`);
  } else if (e instanceof ModelError || e instanceof TypeError || e instanceof RangeError || err.code === 'EADDRINUSE' || err.code === 'EACCES') {
    console.error(`cellscan-serve: ${err.message}`);
  } else {
    throw e;
  }
  process.exitCode = 2;
});
