/**
 * Placement on GPU nodes: required node affinity on GPU feature discovery labels
 * (`nvidia.com/gpu.family`, `nvidia.com/gpu.product`) and extra node labels, plus tolerations.
 */
import * as kplus from 'cdk8s-plus-28';

export interface GpuSchedulingProps {
  /** Required `nvidia.com/gpu.family` value. @default 'hopper' (null: not required) */
  readonly gpuFamily?: string | null;
  /** Required `nvidia.com/gpu.product` values (any of). @default - any product */
  readonly gpuProducts?: string[];
  /** Extra required node labels. @default - none */
  readonly nodeSelector?: Record<string, string>;
  /** Tolerations. @default - the `nvidia.com/gpu` taint (Exists, NoSchedule) */
  readonly tolerations?: { key: string; operator?: 'Exists' | 'Equal'; value?: string; effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];
}

export const GPU_FAMILY_LABEL = 'nvidia.com/gpu.family';
export const GPU_PRODUCT_LABEL = 'nvidia.com/gpu.product';

export class GpuScheduling {
  constructor(private readonly props: GpuSchedulingProps) {}

  /** The node label requirements, all of which a node must meet. */
  labelQueries(): kplus.NodeLabelQuery[] {
    const family = this.props.gpuFamily === undefined ? 'hopper' : this.props.gpuFamily;
    const queries: kplus.NodeLabelQuery[] = [];
    if (family !== null) queries.push(kplus.NodeLabelQuery.is(GPU_FAMILY_LABEL, family));
    const products = this.props.gpuProducts ?? [];
    if (products.length > 0) queries.push(kplus.NodeLabelQuery.in(GPU_PRODUCT_LABEL, products));
    for (const [k, v] of Object.entries(this.props.nodeSelector ?? {})) queries.push(kplus.NodeLabelQuery.is(k, v));
    return queries;
  }

  /** Applies the affinity and (optionally) the tolerations to a workload. */
  applyTo(workload: kplus.AbstractPod & { scheduling: kplus.PodScheduling }, { tolerateGpuTaint = true } = {}): void {
    const queries = this.labelQueries();
    if (queries.length > 0) workload.scheduling.attract(kplus.Node.labeled(...queries));
    if (!tolerateGpuTaint) return;
    const tolerations = this.props.tolerations ?? [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }];
    for (const t of tolerations) {
      const options = t.effect ? { effect: taintEffect(t.effect) } : {};
      const query = (t.operator ?? 'Exists') === 'Exists' ? kplus.NodeTaintQuery.exists(t.key, options) : kplus.NodeTaintQuery.is(t.key, t.value ?? '', options);
      workload.scheduling.tolerate(kplus.Node.tainted(query));
    }
  }
}

function taintEffect(effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute'): kplus.TaintEffect {
  switch (effect) {
    case 'NoExecute':
      return kplus.TaintEffect.NO_EXECUTE;
    case 'PreferNoSchedule':
      return kplus.TaintEffect.PREFER_NO_SCHEDULE;
    default:
      return kplus.TaintEffect.NO_SCHEDULE;
  }
}
