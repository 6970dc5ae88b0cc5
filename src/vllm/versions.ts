/**
 * What genrm-deploy relies on in vLLM that changes between releases, in one table keyed by the
 * version of the vllm/vllm-openai image: how a multi-node group starts, the log lines `status`
 * reads, the metric names, the drain flag and the engine-ready timeout variable. Moving to a newer
 * image is one row here plus its tests.
 *
 * Every fact is read from vLLM's source. The v0.12.0 row (the default image) was checked against
 * vLLM's main branch around the v0.12.0 branch cut (2025-11-28, commit be493e0b: the history
 * searched holds no v0.12.0 tag, and a release branch takes only cherry-picks); the later row
 * against vLLM's main branch of 2026-08 (commit 017e9f44), which is past releases/v0.23.0. The default image stays at v0.12.0 until a
 * newer image has been run against this model on real GPUs.
 */

export interface MultiNodeRecipe {
  /**
   * `ray`: vLLM's Ray bootstrap script starts the Ray head on the leader and joins the workers,
   * then the leader serves with `--distributed-executor-backend ray`.
   * `multiprocess`: every pod runs `vllm serve` with `--nnodes`, `--node-rank` and
   * `--master-addr`; workers add `--headless` (no Ray needed).
   */
  kind: 'ray' | 'multiprocess';
  /** With `ray`: the script's path in the image. */
  script?: string;
  /**
   * With `multiprocess`: the flags that bound how long the group's ranks wait for each other
   * (torch.distributed's defaults are 600 s for NCCL, 1800 s for gloo); each gets the startup
   * budget in seconds.
   */
  timeoutFlags?: readonly string[];
}

/** A port a multi-node recipe binds inside the group's pods, and what binds it. */
export interface RecipePort {
  port: number;
  what: string;
}

/**
 * The fixed ports each multi-node recipe binds in the leader's pod (which also runs vLLM's API
 * server and the gate), so that `vllm.port` and `gate.port` can be kept off them.
 * - `ray`: `multi-node-serving.sh` runs `ray start --head --port=6379` (its `ray_port` default,
 *   vLLM `examples/online_serving/multi-node-serving.sh` at v0.12.0); `ray start --head` also
 *   starts the dashboard on 8265, the Ray client server on 10001 and the dashboard agent on 52365
 *   (Ray `python/ray/_private/ray_constants.py`: DEFAULT_PORT, DEFAULT_DASHBOARD_PORT,
 *   DEFAULT_DASHBOARD_AGENT_LISTEN_PORT; `python/ray/scripts/scripts.py`: --ray-client-server-port).
 * - `multiprocess`: rank 0 (the leader) hosts torch.distributed's store on `--master-addr` at
 *   `--master-port`, default 29501 (vLLM `vllm/config/parallel.py`, `master_port`, v0.12.0).
 */
export const RECIPE_PORTS: Record<MultiNodeRecipe['kind'], readonly RecipePort[]> = {
  ray: [
    { port: 6379, what: "Ray's head (GCS)" },
    { port: 8265, what: "Ray's dashboard" },
    { port: 10001, what: "Ray's client server" },
    { port: 52365, what: "Ray's dashboard agent" },
  ],
  multiprocess: [{ port: 29501, what: "torch.distributed's store on the leader (vLLM's --master-port default)" }],
};

export interface VllmRelease {
  /** The first release these facts hold for (major, minor, patch). */
  since: readonly [number, number, number];
  /** Where the facts were read. */
  checkedAt: string;
  multiNode: MultiNodeRecipe;
  /**
   * The environment variable that bounds the API server's wait for the engine cores' ready
   * message, if this release reads one. It never bounds the model load; the startup probe does.
   */
  engineReadyTimeoutEnv?: string;
  /** The flag that lets in-flight requests finish after SIGTERM, if this release has one. */
  drainFlag?: string;
  /** The KV-cache usage gauge (0..1). */
  kvCacheUsageMetric: string;
  /** The log lines `status` reads to tell where a start stands. */
  log: LogPatterns;
}

export interface LogPatterns {
  /** The worker starts reading the model. */
  loadStarted: RegExp;
  /** The weights are in GPU memory. */
  modelLoaded: RegExp;
  /** The KV cache is being sized (after the memory profile). */
  kvCacheSized: RegExp;
  /** CUDA graphs are being captured (the last step before serving). */
  cudaGraphs: RegExp;
  /** The API server is up. */
  serverStarted: RegExp;
}

/**
 * The releases, oldest first.
 *
 * v0.12.0:
 * - multi-node: `examples/online_serving/multi-node-serving.sh` under `/vllm-workspace` in the
 *   image, with `--ray_init_timeout` (default 300 s) on leader and worker; vLLM's LWS guide of
 *   that release (`docs/deployment/frameworks/lws.md`) runs it, and
 *   `docs/serving/parallelism_scaling.md` names Ray the default multi-node runtime. The
 *   multiprocess flags `--nnodes`/`--node-rank`/`--master-addr` are in the parser
 *   (`vllm/engine/arg_utils.py`) but undocumented there.
 * - no `VLLM_ENGINE_READY_TIMEOUT_S` (absent from `vllm/envs.py`; added 2025-12-19, PR 27444).
 * - no drain flag: SIGTERM cancels the server at once (`vllm/entrypoints/launcher.py`): the engine
 *   stops, and `uvicorn`'s shutdown then waits without a limit for the connections still open
 *   (`vllm/entrypoints/openai/api_server.py`, run_server_worker), so a request in flight gets no
 *   answer until the kubelet's SIGKILL (measured against vLLM's own server,
 *   e2e/tests/vllm-busy.e2e.test.ts; `--shutdown-timeout` is refused by its parser, vllm-args).
 * - `vllm:kv_cache_usage_perc` (`vllm/v1/metrics/loggers.py`; the old `vllm:gpu_cache_usage_perc`
 *   was removed on 2025-11-25, PR 29330).
 *
 * Later (main of 2026-08; releases/v0.23.0 of 2026-06 has the same multi-node change):
 * - multi-node: the Ray script moved to `examples/ray_serving/` (2026-05-06, PR 40759), the
 *   image no longer installs Ray, and vLLM's LWS guide switched to the multiprocess recipe
 *   (2026-06-10, PR 39400: `vllm serve ... --nnodes $(LWS_GROUP_SIZE) --node-rank
 *   $(LWS_WORKER_INDEX) --master-addr $(LWS_LEADER_ADDRESS)`, `--headless` on workers).
 * - `--distributed-timeout-seconds` (2026-03-05, PR 36047) and `--cpu-distributed-timeout-seconds`
 *   (2026-05-21, PR 42968) bound the ranks' wait for each other in `init_process_group`
 *   (`vllm/config/parallel.py`; unset: torch.distributed's 600 s for NCCL, 1800 s for gloo), so
 *   a worker still pulling its image no longer fails the leader after ten minutes.
 * - `VLLM_ENGINE_READY_TIMEOUT_S` (default 600, `vllm/envs.py`) bounds only the wait for the
 *   engine cores' ready message after they finished loading (`vllm/v1/engine/core_client.py`).
 * - `--shutdown-timeout` (default 0: still aborts in-flight requests; `vllm/engine/arg_utils.py`).
 */
export const VLLM_RELEASES: readonly VllmRelease[] = [
  {
    since: [0, 12, 0],
    checkedAt: 'vLLM v0.12.0',
    multiNode: { kind: 'ray', script: '/vllm-workspace/examples/online_serving/multi-node-serving.sh' },
    kvCacheUsageMetric: 'vllm:kv_cache_usage_perc',
    log: {
      // vllm/v1/worker/gpu_model_runner.py: "Starting to load model %s..."
      loadStarted: /Starting to load model /,
      // vllm/v1/worker/gpu_model_runner.py: "Model loading took %.4f GiB memory and %.6f seconds";
      // vllm/model_executor/model_loader/default_loader.py: "Loading weights took %.2f seconds"
      modelLoaded: /Model loading took|Loading weights took/,
      // vllm/v1/worker/gpu_worker.py: "Available KV cache memory: %.2f GiB";
      // vllm/v1/core/kv_cache_utils.py: "GPU KV cache size: %s tokens" (the count with commas)
      kvCacheSized: /Available KV cache memory:|GPU KV cache size: [\d,]+ tokens/,
      // vllm/v1/worker/gpu_model_runner.py: tqdm "Capturing CUDA graphs (...)"
      cudaGraphs: /Capturing CUDA graphs/,
      // vllm/entrypoints/openai/api_server.py: "Starting vLLM API server %d on %s"; uvicorn's
      // "Application startup complete." follows it
      serverStarted: /Starting vLLM API server \d+ on |Application startup complete/,
    },
  },
  {
    since: [0, 23, 0],
    checkedAt: 'vLLM main 2026-08 (017e9f44)',
    multiNode: { kind: 'multiprocess', timeoutFlags: ['--distributed-timeout-seconds', '--cpu-distributed-timeout-seconds'] },
    engineReadyTimeoutEnv: 'VLLM_ENGINE_READY_TIMEOUT_S',
    drainFlag: '--shutdown-timeout',
    kvCacheUsageMetric: 'vllm:kv_cache_usage_perc',
    log: {
      // same files as v0.12.0; "Model loading took %s GiB memory ..." now formats the GiB as text
      loadStarted: /Starting to load model /,
      modelLoaded: /Model loading took|Loading weights took/,
      // vllm/v1/worker/gpu_worker.py: "Available KV cache memory: %s GiB";
      // vllm/v1/core/kv_cache_utils.py: "GPU KV cache size: %s tokens, Maximum concurrency for ..."
      kvCacheSized: /Available KV cache memory:|GPU KV cache size: [\d,]+ tokens/,
      cudaGraphs: /Capturing CUDA graphs/,
      // vllm/entrypoints/openai/api_server.py: "Starting vLLM server on %s"
      serverStarted: /Starting vLLM server on |Application startup complete/,
    },
  },
];

/** The release of the default image (`vllm.image`'s default). */
export const DEFAULT_RELEASE = VLLM_RELEASES[0];

/** The version in an image reference (`vllm/vllm-openai:v0.12.0` -> [0, 12, 0]), if its tag names one. */
export function imageRelease(image: string): [number, number, number] | undefined {
  if (image.includes('@sha256:') && !/:[^/@]+@sha256:/.test(image)) return undefined;
  const ref = image.split('@')[0];
  const last = ref.split('/').pop() ?? '';
  const colon = last.lastIndexOf(':');
  if (colon < 0) return undefined;
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(last.slice(colon + 1));
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

function atLeast(v: readonly number[], since: readonly number[]): boolean {
  for (let i = 0; i < 3; i++) if (v[i] !== since[i]) return v[i] > since[i];
  return true;
}

/**
 * The facts for an image: the newest row whose release is not newer than the image's tag. An
 * image without a version tag (a digest, a mirror's own tag) gets the default release's facts.
 * Releases between two rows get the older row, except for the multi-node recipe: the Ray script
 * is only known to be in the image at v0.12.x, so any later release uses the multiprocess recipe,
 * whose flags exist since v0.12.0 (without the timeout flags, which not every release between
 * the rows has).
 */
export function vllmRelease(image: string): VllmRelease {
  const v = imageRelease(image);
  if (!v) return DEFAULT_RELEASE;
  let row = VLLM_RELEASES[0];
  for (const r of VLLM_RELEASES) if (atLeast(v, r.since)) row = r;
  if (row.multiNode.kind === 'ray' && atLeast(v, [0, 13, 0])) return { ...row, multiNode: { kind: 'multiprocess' } };
  return row;
}
