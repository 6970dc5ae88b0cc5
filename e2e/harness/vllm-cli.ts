/**
 * `npm run e2e:vllm -- up [--judge MODE] [--port N] [--max-num-seqs N] [--max-model-len N]`: starts
 * vLLM's own server on 127.0.0.1 with the tiny GenRM and the synthesized flags, waits until
 * /v1/models lists the model, writes the base URL to `.e2e/vllm-url` (PID, log and the judge's
 * table beside it) and leaves it running.
 * `npm run e2e:vllm -- down`: stops it (its whole process group).
 * `npm run e2e:vllm -- judge MODE`: switches the running server's judge.
 * `npm run e2e:vllm -- install`: installs vLLM and the tiny GenRM into the cache.
 * Exit codes: 0 done, 1 the operation failed, 2 usage.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isJudgeMode, JUDGE_MODES, setJudgeMode, type JudgeMode } from './judge-table.ts';
import { stateDir } from './paths.ts';
import { ensureVllm, vllmMissing } from './vllm-install.ts';
import { startVllm, stateFiles, stopGroup } from './vllm.ts';

const USAGE = `Usage: npm run e2e:vllm -- up [--judge ${JUDGE_MODES.join('|')}] [--port N] [--max-num-seqs N] [--max-model-len N]
       npm run e2e:vllm -- down | judge MODE | install`;

class Usage extends Error {}

const log = (line: string) => process.stderr.write(`${line}\n`);

function positiveInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535 * 16) throw new Usage(`--${name} must be a positive integer, got '${raw}'`);
  return n;
}

function runningPid(): number | undefined {
  const file = stateFiles(stateDir()).pid;
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  try {
    process.kill(-pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { judge: { type: 'string' }, port: { type: 'string' }, 'max-num-seqs': { type: 'string' }, 'max-model-len': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...rest] = positionals;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const files = stateFiles(stateDir());
  switch (command) {
    case 'up': {
      if (rest.length) throw new Usage(`unexpected argument '${rest[0]}'`);
      const judge = values.judge ?? 'right';
      if (!isJudgeMode(judge)) throw new Usage(`--judge must be one of ${JUDGE_MODES.join(', ')}, got '${judge}'`);
      const port = positiveInt('port', values.port);
      if (port !== undefined && port > 65535) throw new Usage(`--port must be at most 65535, got ${port}`);
      const missing = vllmMissing();
      if (missing) throw new Usage(`${missing}.`);
      const running = runningPid();
      if (running !== undefined) throw new Error(`vLLM is already running (pid ${running}, ${readFileSync(files.url, 'utf8').trim()}); run \`npm run e2e:vllm -- down\` first`);
      const server = await startVllm({
        judge,
        port,
        maxNumSeqs: positiveInt('max-num-seqs', values['max-num-seqs']),
        maxModelLen: positiveInt('max-model-len', values['max-model-len']),
        detached: true,
        log,
      });
      process.stdout.write(`${server.url}\n`);
      return 0;
    }
    case 'down': {
      const pid = runningPid();
      if (pid === undefined) {
        log('vllm: not running');
      } else {
        const r = await stopGroup(pid);
        log(`vllm: stopped pid ${pid} in ${(r.ms / 1000).toFixed(1)} s (${r.killedWith})`);
      }
      rmSync(files.pid, { force: true });
      rmSync(files.url, { force: true });
      return 0;
    }
    case 'judge': {
      const mode = rest[0];
      if (!mode || !isJudgeMode(mode)) throw new Usage(`judge needs one of ${JUDGE_MODES.join(', ')}`);
      if (!existsSync(files.judge)) throw new Error('no vLLM was started here (`npm run e2e:vllm -- up` first)');
      setJudgeMode(files.judge, mode as JudgeMode);
      log(`vllm: the judge is now '${mode}' for new requests`);
      return 0;
    }
    case 'install': {
      const missing = vllmMissing();
      if (missing) throw new Usage(`${missing}.`);
      const r = await ensureVllm({ log });
      log(`vllm: ${r.vllmVersion} with torch ${r.torchVersion} in ${r.venv}`);
      return 0;
    }
    default:
      throw new Usage(command ? `unknown command '${command}'` : 'a command is required');
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const usage = err instanceof Usage || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`e2e:vllm: ${(err as Error).message}${usage ? `\n${USAGE}` : ''}\n`);
  process.exitCode = usage ? 2 : 1;
}
