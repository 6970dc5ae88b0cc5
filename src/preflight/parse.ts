/**
 * Parsing `nvidia-smi --query-gpu=... --format=csv` output into GPU records.
 *
 * Accepted forms (Node built-ins only: this file is bundled into the preflight init container):
 * - what the preflight runs, `--query-gpu=index,name,memory.total,compute_cap
 *   --format=csv,noheader,nounits`: `0, NVIDIA H100 80GB HBM3, 81559, 9.0`;
 * - the same without the index column (`name,memory.total,compute_cap`, as in the fixtures'
 *   query-gpu-noheader.csv): records are numbered in output order;
 * - with a header line (`--format=csv`): columns are found by name, so extra columns such as
 *   driver_version are ignored, and memory may carry its unit (`81559 MiB`).
 */

export interface GpuRecord {
  /** The GPU index as nvidia-smi numbers it inside the container. */
  index: number;
  /** Product name, e.g. `NVIDIA H100 80GB HBM3`. */
  name: string;
  /** Total memory (MiB) as nvidia-smi reports it. */
  memoryMiB: number;
  /** `major.minor`, e.g. `9.0`; null when nvidia-smi reports it as not available. */
  computeCapability: string | null;
}

export class NvidiaSmiParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NvidiaSmiParseError';
  }
}

type Column = 'index' | 'name' | 'memory.total' | 'compute_cap';

/** Column layouts of header-less output, by field count. */
function headerlessColumns(fields: string[]): Column[] | undefined {
  if (fields.length === 4) return ['index', 'name', 'memory.total', 'compute_cap'];
  if (fields.length === 3) {
    // `index,name,memory.total` or `name,memory.total,compute_cap`: an index is a bare integer.
    return /^\d+$/.test(fields[0]) ? ['index', 'name', 'memory.total'] : ['name', 'memory.total', 'compute_cap'];
  }
  if (fields.length === 2) return ['name', 'memory.total'];
  return undefined;
}

/** Maps a header line to the column each position holds (undefined for columns we ignore). */
function headerColumns(fields: string[]): (Column | undefined)[] {
  return fields.map((f) => {
    const key = f.replace(/\s*\[[^\]]*\]\s*$/, '').trim().toLowerCase();
    return key === 'index' || key === 'name' || key === 'memory.total' || key === 'compute_cap' ? key : undefined;
  });
}

function isHeader(fields: string[]): boolean {
  return fields.some((f) => /^name$/i.test(f)) && fields.some((f) => /^memory\.total\b/i.test(f));
}

const NOT_AVAILABLE = /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions)\]?$/i;

function parseMemory(raw: string, where: string): number {
  const m = /^(\d+)(?:\s*MiB)?$/i.exec(raw);
  if (!m) throw new NvidiaSmiParseError(`${where}: memory.total '${raw}' is not a number of MiB`);
  return Number(m[1]);
}

function parseComputeCap(raw: string, where: string): string | null {
  if (NOT_AVAILABLE.test(raw)) return null;
  if (!/^\d+\.\d+$/.test(raw)) throw new NvidiaSmiParseError(`${where}: compute_cap '${raw}' is not a major.minor version`);
  return raw;
}

/**
 * Parses the output; throws `NvidiaSmiParseError` naming the line for anything unexpected.
 * Empty output gives no records (the check then reports that no GPU is visible).
 */
export function parseQueryGpuCsv(text: string): GpuRecord[] {
  const lines = text
    .split(/\r?\n/)
    .map((l, i) => ({ n: i + 1, text: l.trim() }))
    .filter((l) => l.text !== '');
  if (lines.length === 0) return [];

  const split = (s: string) => s.split(',').map((f) => f.trim());
  let columns: (Column | undefined)[] | undefined;
  let body = lines;
  const first = split(lines[0].text);
  if (isHeader(first)) {
    columns = headerColumns(first);
    body = lines.slice(1);
  }

  return body.map((line, position) => {
    const where = `nvidia-smi output line ${line.n} '${line.text}'`;
    const fields = split(line.text);
    const cols = columns ?? headerlessColumns(fields);
    if (!cols || cols.length !== fields.length) {
      const expected = columns ? `${columns.length} fields, as in the header` : '4 fields: index, name, memory.total, compute_cap';
      throw new NvidiaSmiParseError(`${where}: expected ${expected}; got ${fields.length}`);
    }
    const value = (c: Column) => {
      const i = cols.indexOf(c);
      return i < 0 ? undefined : fields[i];
    };
    const name = value('name');
    if (!name) throw new NvidiaSmiParseError(`${where}: the GPU name is empty`);
    const memory = value('memory.total');
    if (memory === undefined) throw new NvidiaSmiParseError(`${where}: no memory.total column`);
    const rawIndex = value('index');
    if (rawIndex !== undefined && !/^\d+$/.test(rawIndex)) {
      throw new NvidiaSmiParseError(`${where}: index '${rawIndex}' is not a whole number`);
    }
    const rawCap = value('compute_cap');
    return {
      index: rawIndex === undefined ? position : Number(rawIndex),
      name,
      memoryMiB: parseMemory(memory, where),
      computeCapability: rawCap === undefined ? null : parseComputeCap(rawCap, where),
    };
  });
}
