/**
 * The certificates of a test cluster, made with the openssl command: a CA; the apiserver's serving
 * certificate (127.0.0.1, localhost and the in-cluster names); client certificates for the admin
 * (group system:masters), the controller-manager, the scheduler, kwok, the LeaderWorkerSet
 * controller and the apiserver's calls to the node endpoint (kwok serves logs there); a serving
 * certificate for kwok and for the LeaderWorkerSet webhooks on 127.0.0.1; the service-account
 * signing key. Everything is written into one folder of the cluster's data.
 */
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  ca: string;
  caKey: string;
  /** name → { cert, key } */
  certs: Record<string, { cert: string; key: string }>;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

interface CertSpec {
  name: string;
  subject: string;
  /** Subject alternative names (serving certificates). */
  san?: string[];
  usage: 'server' | 'client';
}

const CERTS: CertSpec[] = [
  {
    name: 'apiserver',
    subject: '/CN=kube-apiserver',
    san: ['IP:127.0.0.1', 'IP:10.0.0.1', 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local'],
    usage: 'server',
  },
  { name: 'admin', subject: '/O=system:masters/CN=genrm-e2e-admin', usage: 'client' },
  { name: 'controller-manager', subject: '/CN=system:kube-controller-manager', usage: 'client' },
  { name: 'scheduler', subject: '/CN=system:kube-scheduler', usage: 'client' },
  // kwok and the LWS controller act as cluster admins here, as their own manifests grant them
  // cluster-wide rights to nodes, pods and their status.
  { name: 'kwok', subject: '/O=system:masters/CN=kwok', usage: 'client' },
  { name: 'lws', subject: '/O=system:masters/CN=lws-controller', usage: 'client' },
  { name: 'apiserver-kubelet-client', subject: '/O=system:masters/CN=kube-apiserver-kubelet-client', usage: 'client' },
  { name: 'kwok-serving', subject: '/CN=kwok', san: ['IP:127.0.0.1', 'DNS:localhost'], usage: 'server' },
  { name: 'lws-webhook', subject: '/CN=lws-webhook', san: ['IP:127.0.0.1', 'DNS:localhost'], usage: 'server' },
];

async function openssl(args: string[], cwd: string): Promise<void> {
  await execa('openssl', args, { cwd, timeout: 60_000 });
}

/** Makes every key and certificate in `dir`. */
export async function makePki(dir: string): Promise<Pki> {
  const ca = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', ca, '-days', '30', '-subj', '/CN=genrm-e2e-ca'], dir);
  const certs: Pki['certs'] = {};
  for (const spec of CERTS) {
    const key = join(dir, `${spec.name}.key`);
    const csr = join(dir, `${spec.name}.csr`);
    const cert = join(dir, `${spec.name}.crt`);
    const ext = join(dir, `${spec.name}.ext`);
    const lines = [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${spec.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
    ];
    if (spec.san) lines.push(`subjectAltName=${spec.san.join(',')}`);
    writeFileSync(ext, `${lines.join('\n')}\n`);
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', spec.subject], dir);
    await openssl(['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '30', '-extfile', ext], dir);
    certs[spec.name] = { cert, key };
  }
  const serviceAccountKey = join(dir, 'sa.key');
  const serviceAccountPub = join(dir, 'sa.pub');
  await openssl(['genrsa', '-out', serviceAccountKey, '2048'], dir);
  await openssl(['rsa', '-in', serviceAccountKey, '-pubout', '-out', serviceAccountPub], dir);
  return { dir, ca, caKey, certs, serviceAccountKey, serviceAccountPub };
}
