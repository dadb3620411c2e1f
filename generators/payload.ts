import { unitHash } from './ids.js';
import { ATTR, encodeAttributes, type AttributeValue, type RunIdentity } from './otlp-common.js';
import { ProtoWriter } from './protobuf-writer.js';

/**
 * Payload profiles: what the generated items look like besides their identity.
 *  - synthetic: one fixed shape (span names soak-root/soak-child-N, filler attributes, plain log lines);
 *  - web: an HTTP service on Kubernetes calling a database and another service, as instrumented with the
 *    OpenTelemetry semantic conventions — server, database and client spans with their attributes, an
 *    exception event on failed requests, links, JSON log lines with a severity mix and trace context, and
 *    the Kubernetes resource attributes of one of `pods` pods on `nodes` nodes per batch.
 * Every value is a function of the item's sequence number (and of the batch, for the pod), so a verifier
 * and the tail-sampling oracle can tell what any item carried.
 */
export const PAYLOAD_PROFILES = ['synthetic', 'web'] as const;
export type PayloadProfile = (typeof PAYLOAD_PROFILES)[number];

export interface PayloadShape {
  profile: PayloadProfile;
  /** Distinct pods (k8s.pod.name, service.instance.id stays the run id) the batches come from. */
  pods: number;
  /** Distinct nodes (k8s.node.name) the pods run on. */
  nodes: number;
}

export const SYNTHETIC: PayloadShape = { profile: 'synthetic', pods: 1, nodes: 1 };

const SALT_ROUTE = 0x5eed0101;
const SALT_POD = 0x5eed0102;
const SALT_LEVEL = 0x5eed0103;
export const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;

interface Route {
  method: string;
  route: string;
  path: (seq: number) => string;
}
const ROUTES: readonly [number, Route][] = [
  [0.5, { method: 'GET', route: '/api/cart/{id}', path: (seq) => `/api/cart/${seq % 10_000}` }],
  [0.7, { method: 'POST', route: '/api/cart/{id}/items', path: (seq) => `/api/cart/${seq % 10_000}/items` }],
  [0.9, { method: 'GET', route: '/api/products', path: () => '/api/products' }],
  [1, { method: 'PUT', route: '/api/cart/{id}', path: (seq) => `/api/cart/${seq % 10_000}` }],
];

/** The request trace `seq` (and log record `seq`) stands for. */
export function routeOf(seq: number): Route {
  const u = unitHash(seq, SALT_ROUTE);
  return ROUTES.find(([upTo]) => u < upTo)![1];
}

/** Name and kind of span `index` of trace `seq`. */
export function spanNameKind(payload: PayloadShape, seq: number, index: number): { name: string; kind: number } {
  if (payload.profile === 'synthetic')
    return index === 0
      ? { name: 'soak-root', kind: SPAN_KIND.SERVER }
      : { name: `soak-child-${index}`, kind: SPAN_KIND.INTERNAL };
  if (index === 0) {
    const r = routeOf(seq);
    return { name: `${r.method} ${r.route}`, kind: SPAN_KIND.SERVER };
  }
  if (index === 1) return { name: 'SELECT shop.carts', kind: SPAN_KIND.CLIENT };
  if (index === 2) return { name: 'GET', kind: SPAN_KIND.CLIENT };
  return { name: `cart.render.${index}`, kind: SPAN_KIND.INTERNAL };
}

const DB_HOST = 'postgres.shop.svc.cluster.local';
const INVENTORY_HOST = 'inventory.shop.svc.cluster.local';

/** The semantic-convention attributes of span `index` of trace `seq` in the web profile (`error`: a 500). */
export function webSpanAttributes(seq: number, index: number, error: boolean): Record<string, AttributeValue> {
  if (index === 0) {
    const r = routeOf(seq);
    return {
      'http.request.method': r.method,
      'http.route': r.route,
      'url.path': r.path(seq),
      'url.scheme': 'http',
      'server.address': 'cart.shop.svc.cluster.local',
      'server.port': 8080,
      'network.protocol.version': '1.1',
      'client.address': `10.42.${(seq >>> 8) % 256}.${seq % 256}`,
      'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0',
      'http.response.status_code': error ? 500 : 200,
    };
  }
  if (index === 1)
    return {
      'db.system.name': 'postgresql',
      'db.namespace': 'shop',
      'db.collection.name': 'carts',
      'db.operation.name': 'SELECT',
      'db.query.text': 'SELECT id, items, updated_at FROM carts WHERE id = $1',
      'server.address': DB_HOST,
      'server.port': 5432,
    };
  if (index === 2)
    return {
      'http.request.method': 'GET',
      'url.full': `http://${INVENTORY_HOST}:8080/api/stock/${seq % 1_000}`,
      'server.address': INVENTORY_HOST,
      'server.port': 8080,
      'http.response.status_code': 200,
    };
  return { 'code.function.name': `cart.render${index}`, 'code.file.path': 'cart/render.go' };
}

/** The exception event a failed request's server span carries (field 11 of Span), pre-encoded. */
export function exceptionEvent(timeMs: number): Uint8Array {
  const w = new ProtoWriter(1024);
  w.fork();
  w.fixed64Millis(1, timeMs);
  w.string(2, 'exception');
  w.raw(
    encodeAttributes(3, {
      'exception.type': 'io.grpc.StatusRuntimeException',
      'exception.message': `UNAVAILABLE: ${INVENTORY_HOST}:8080 timed out after 1000 ms`,
      'exception.stacktrace': STACK,
    }),
  );
  w.join(11);
  return w.finish();
}

const STACK = [
  'io.grpc.StatusRuntimeException: UNAVAILABLE: inventory timed out',
  '\tat io.grpc.stub.ClientCalls.toStatusRuntimeException(ClientCalls.java:268)',
  '\tat io.grpc.stub.ClientCalls.getUnchecked(ClientCalls.java:249)',
  '\tat shop.inventory.InventoryGrpc$InventoryBlockingStub.stock(InventoryGrpc.java:412)',
  '\tat shop.cart.CartService.render(CartService.java:88)',
  '\tat shop.cart.CartController.get(CartController.java:41)',
].join('\n');

/** Severity of log record `seq` in the web profile: 80 % INFO, 10 % DEBUG, 7 % WARN, 3 % ERROR. */
export function webLogLevel(seq: number): 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' {
  const u = unitHash(seq, SALT_LEVEL);
  return u < 0.03 ? 'ERROR' : u < 0.1 ? 'WARN' : u < 0.2 ? 'DEBUG' : 'INFO';
}

/**
 * The JSON line of log record `seq` in the web profile: the run and seq first (what `seqOfLogLine` reads),
 * then what a request log of the service says.
 */
export function webLogLine(runId: string, seq: number): string {
  const r = routeOf(seq);
  const level = webLogLevel(seq);
  const status = level === 'ERROR' ? 500 : 200;
  return JSON.stringify({
    [ATTR.runId]: runId,
    [ATTR.seq]: seq,
    level: level.toLowerCase(),
    logger: 'shop.cart.http',
    msg: level === 'ERROR' ? `${r.method} ${r.route} failed: inventory timed out` : `${r.method} ${r.route} ${status}`,
    'http.request.method': r.method,
    'url.path': r.path(seq),
    'http.response.status_code': status,
    duration_ms: 3 + (seq % 97),
    'user.id': `u-${seq % 5_000}`,
  });
}

/** Pod `p` of the web profile's resource attributes (service.name, service.instance.id kept as identity). */
function podAttributes(identity: RunIdentity, payload: PayloadShape, p: number): Record<string, AttributeValue> {
  const hash = (Math.imul(p + 1, 2654435761) >>> 0).toString(36).slice(0, 5).padEnd(5, '0');
  return {
    'service.name': identity.serviceName,
    'service.instance.id': identity.runId,
    [ATTR.runId]: identity.runId,
    'service.namespace': 'shop',
    'service.version': '1.4.2',
    'deployment.environment.name': 'load-test',
    'telemetry.sdk.language': 'java',
    'telemetry.sdk.name': 'opentelemetry',
    'k8s.cluster.name': 'otel-harness',
    'k8s.namespace.name': 'shop',
    'k8s.deployment.name': 'cart',
    'k8s.pod.name': `cart-7d9f8c6b5-${hash}${p}`,
    'k8s.node.name': `node-${p % Math.max(1, payload.nodes)}`,
    'container.name': 'cart',
  };
}

/**
 * The resource (field 1 of Resource*) of each batch: the identity alone for the synthetic profile; for the
 * web profile, one of the pods', chosen per batch by its first sequence number. Pre-encoded once per pod.
 */
export class ResourcePicker {
  private readonly encoded = new Map<number, Uint8Array>();
  constructor(
    private readonly identity: RunIdentity,
    private readonly payload: PayloadShape,
    private readonly identityOnly: () => Uint8Array,
  ) {}

  forBatch(firstSeq: number): Uint8Array {
    const p = this.payload.profile === 'synthetic' ? -1 : Math.floor(unitHash(firstSeq, SALT_POD) * this.payload.pods);
    let r = this.encoded.get(p);
    if (r === undefined) {
      r =
        p < 0
          ? this.identityOnly()
          : new ProtoWriter(1024)
              .fork()
              .raw(encodeAttributes(1, podAttributes(this.identity, this.payload, p)))
              .join(1)
              .finish();
      this.encoded.set(p, r);
    }
    return r;
  }
}
